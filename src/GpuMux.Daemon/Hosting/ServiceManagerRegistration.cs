using GpuMux.Daemon.Logging;
using GpuMux.Linux;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Win32.SafeHandles;

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
        var journalStream = Environment.GetEnvironmentVariable("JOURNAL_STREAM");
        if (LogsToJournal(journalStream, Environment.GetEnvironmentVariable("INVOCATION_ID"), StreamIdentity(1)))
        {
            // Where systemd connected standard output to the journal, the journal's own socket takes
            // entries with their values as fields; the console's lines would be the same entries again.
            if (!string.IsNullOrEmpty(journalStream) && JournalLoggerProvider.ForThisHost() is { } journal)
            {
                builder.Logging.ClearProviders();
                builder.Logging.AddProvider(journal);
            }
            else
            {
                // Each line starts with its syslog priority (<3> for errors), which journald files it
                // under, and carries no timestamp or colours, which the journal adds or does not want.
                builder.Logging.AddSystemdConsole();
            }
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
    /// Whether the console logger's output, standard output, goes to the journal. systemd names the
    /// stream it connected to the journal in <c>JOURNAL_STREAM</c> (<c>device:inode</c>); a shell
    /// started from a service (a desktop's terminal) inherits the variable with its own output
    /// elsewhere, so it counts only when it names this stream. Without it, <c>INVOCATION_ID</c>
    /// says that systemd runs the service, whose output it keeps.
    /// </summary>
    internal static bool LogsToJournal(string? journalStream, string? invocationId, (ulong Device, ulong Inode)? standardOutput) =>
        string.IsNullOrEmpty(journalStream)
            ? !string.IsNullOrEmpty(invocationId)
            : standardOutput is { } output && journalStream == $"{output.Device}:{output.Inode}";

    /// <summary>The device and inode of standard output (1) or error (2), as <c>JOURNAL_STREAM</c> names them.</summary>
    internal static (ulong Device, ulong Inode)? StreamIdentity(int descriptor)
    {
        using var output = new SafeFileHandle(descriptor, ownsHandle: false);
        try
        {
            return FileDescriptors.Identity(output);
        }
        catch (LinuxException)
        {
            return null;
        }
    }
}
