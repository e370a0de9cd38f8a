using GpuMux.Daemon.Configuration;
using GpuMux.Daemon.Connections;
using GpuMux.Daemon.Device;
using GpuMux.Daemon.Hosting;
using GpuMux.Daemon.Metrics;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace GpuMux.Daemon;

/// <summary>
/// The daemon as a host: gpumuxd runs it, and <c>gpumuxctl demo</c> embeds it when no daemon is
/// running. It takes gpumuxd's command-line arguments.
/// </summary>
public static class DaemonHost
{
    /// <param name="reloadOnHangup">
    /// Whether SIGHUP reloads the configuration rather than ending the process: a daemon's
    /// convention, but not that of a command run in a terminal that embeds the daemon.
    /// </param>
    public static IHost Build(string[] args, bool reloadOnHangup = true) => Build(args, reloadOnHangup, replaceServices: null);

    /// <param name="replaceServices">Changes the services before the host is built: tests give the daemon a clock they move by hand, and clients other users than they run as.</param>
    internal static IHost Build(string[] args, bool reloadOnHangup, Action<IServiceCollection>? replaceServices)
    {
        var builder = Host.CreateApplicationBuilder(args);
        builder.AddGpumuxdConfiguration(args);
        builder.AddServiceManager();
        builder.Services.AddSingleton(TimeProvider.System);
        builder.Services.AddSingleton<IPeerIdentification, SocketPeerIdentification>();
        builder.Services.AddSingleton<DaemonStatusLine>();
        builder.Services.AddSingleton(services => ClientDescriptors.ForThisProcess(
            services.GetRequiredService<IOptions<LimitsOptions>>().Value,
            services.GetRequiredService<ILoggerFactory>().CreateLogger(typeof(ClientDescriptors))));
        builder.Services.AddHostedService<StartLine>();

        // Registration order is start order, and stop runs in reverse: the engine starts before the
        // socket accepts anyone, and stops after every session has been closed.
        builder.Services.AddSingleton<DaemonExitCode>();
        builder.Services.AddSingleton<EngineService>();
        builder.Services.AddHostedService(services => services.GetRequiredService<EngineService>());
        builder.Services.AddHostedService<DeviceLossWatch>();
        builder.Services.AddHostedService<TenantLimitsReload>();
        if (reloadOnHangup)
        {
            builder.Services.AddHostedService<ReloadSignal>();
        }

        builder.AddGpumuxdMetrics();
        builder.Services.AddHostedService<SocketServer>();
        replaceServices?.Invoke(builder.Services);
        return builder.Build();
    }

    /// <summary>Runs gpumuxd until it stops, and returns the status its process exits with (<see cref="DaemonExitCode"/>).</summary>
    public static async Task<int> RunAsync(string[] args)
    {
        var host = Build(args);
        // Taken before the run, which disposes the host and its services when it ends.
        var exitCode = host.Services.GetRequiredService<DaemonExitCode>();
        await host.RunAsync();
        return exitCode.Value;
    }
}
