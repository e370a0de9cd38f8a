using GpuMux.Daemon.CommandLine;
using GpuMux.Daemon.Configuration;
using GpuMux.Daemon.Connections;
using GpuMux.Daemon.Device;
using GpuMux.Daemon.Hosting;
using GpuMux.Daemon.Metrics;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace GpuMux.Daemon;

/// <summary>
/// The daemon as a host: gpumuxd runs it, and <c>gpumuxctl demo</c> embeds it when no daemon is
/// running. It takes gpumuxd's command-line arguments: the options of a run, and settings as
/// <c>--Section:Name=value</c>.
/// </summary>
public static class DaemonHost
{
    /// <param name="reloadOnHangup">
    /// Whether SIGHUP reloads the configuration rather than ending the process: a daemon's
    /// convention, but not that of a command run in a terminal that embeds the daemon.
    /// </param>
    public static IHost Build(string[] args, bool reloadOnHangup = true) => Build(args, reloadOnHangup, replaceServices: null);

    /// <param name="replaceServices">Changes the services before the host is built: tests give the daemon a clock they move by hand, and clients other users than they run as.</param>
    /// <exception cref="ArgumentException"><paramref name="args"/> are not those of a run of gpumuxd.</exception>
    /// <exception cref="ConfigurationException">The configuration cannot be used.</exception>
    internal static IHost Build(string[] args, bool reloadOnHangup, Action<IServiceCollection>? replaceServices)
    {
        var arguments = DaemonCommand.ParseRun(args);
        var configuration = DaemonConfiguration.Load(
            arguments, Environment.GetEnvironmentVariable(ConfigurationFile.EnvironmentVariable), ConfigurationFile.DefaultPath);
        return Build(arguments, configuration, reloadOnHangup, replaceServices);
    }

    /// <exception cref="ConfigurationException">The configuration cannot be used.</exception>
    internal static IHost Build(DaemonArguments arguments, DaemonConfiguration configuration, bool reloadOnHangup, Action<IServiceCollection>? replaceServices)
    {
        // Under systemd the working directory is /, and the host's appsettings.json, looked for in
        // the content root and watched there, would be an inotify watch on every directory.
        var hostConfiguration = new ConfigurationManager();
        hostConfiguration.AddInMemoryCollection([new("hostBuilder:reloadConfigOnChange", "false")]);
        var builder = Host.CreateApplicationBuilder(new HostApplicationBuilderSettings
        {
            ContentRootPath = AppContext.BaseDirectory,
            Configuration = hostConfiguration,
        });
        if (!arguments.Verbose)
        {
            // The host logs a failure to start with its stack trace; DaemonRun says it in one line.
            builder.Logging.AddFilter("Microsoft.Extensions.Hosting.Internal.Host", LogLevel.Critical);
        }

        builder.AddGpumuxdConfiguration(configuration);
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
}
