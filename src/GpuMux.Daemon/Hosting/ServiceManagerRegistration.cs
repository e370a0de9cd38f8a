using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

namespace GpuMux.Daemon.Hosting;

internal static class ServiceManagerRegistration
{
    /// <summary>
    /// What the daemon tells a service manager (<see cref="ServiceManagerNotifications"/>,
    /// <see cref="SystemdWatchdog"/>, <see cref="DaemonStatusReport"/>), and logs in the form the
    /// journal reads when systemd runs the daemon.
    /// </summary>
    public static IHostApplicationBuilder AddServiceManager(this IHostApplicationBuilder builder)
    {
        if (LogsToJournal(Environment.GetEnvironmentVariable("JOURNAL_STREAM"), Environment.GetEnvironmentVariable("INVOCATION_ID")))
        {
            // Each line starts with its syslog priority (<3> for errors), which journald files it
            // under, and carries no timestamp or colours, which the journal adds or does not want.
            builder.Logging.AddSystemdConsole();
            // "Press Ctrl+C to shut down" means nothing there; the daemon's start line says the rest.
            builder.Services.Configure<ConsoleLifetimeOptions>(options => options.SuppressStatusMessages = true);
        }
        builder.Services.AddSingleton(_ => ServiceManagerNotifier.FromEnvironment());
        builder.Services.AddHostedService<ServiceManagerNotifications>();
        builder.Services.AddHostedService<SystemdWatchdog>();
        builder.Services.AddHostedService<DaemonStatusReport>();
        return builder;
    }

    /// <summary>
    /// Whether standard error goes to the journal: systemd sets <c>JOURNAL_STREAM</c> when it
    /// connects it there, and <c>INVOCATION_ID</c> for every service it runs.
    /// </summary>
    internal static bool LogsToJournal(string? journalStream, string? invocationId) =>
        !string.IsNullOrEmpty(journalStream) || !string.IsNullOrEmpty(invocationId);
}
