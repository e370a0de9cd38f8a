using GpuMux.Client;
using GpuMux.Daemon.Configuration;
using GpuMux.Daemon.Connections;
using GpuMux.Daemon.Hosting;
using GpuMux.Protocol.Transport;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

namespace GpuMux.Daemon.Tests.EndToEnd;

/// <summary>
/// A real gpumuxd on the Sim backend, listening on a socket in a private temporary directory, with
/// small limits so that tests can reach them.
/// </summary>
internal sealed class TestDaemon : IAsyncDisposable
{
    public const int SimMemoryMiB = 256;
    public const int MaxRegionsPerSession = 4;
    public const int MaxInFlightStepsPerSession = 4;

    /// <summary>An argument that gives every tenant the right to load modules, which none has unless the configuration says so.</summary>
    public const string TrustingModules = "--Tenants:Default:Kernels=trusted";

    private readonly IHost _host;
    private readonly DirectoryInfo _directory;
    private bool _stopped;

    private TestDaemon(IHost host, DirectoryInfo directory, string socketPath)
    {
        _host = host;
        _directory = directory;
        SocketPath = socketPath;
    }

    public string SocketPath { get; }

    public static Task<TestDaemon> StartAsync(params string[] extraArguments) => StartAsync(time: null, extraArguments);

    /// <param name="time">The clock the daemon's connections keep time by (handshake deadlines, held-back log lines); null for the real one.</param>
    public static async Task<TestDaemon> StartAsync(TimeProvider? time, params string[] extraArguments)
    {
        var directory = Directory.CreateTempSubdirectory("gmx-");
        var socketPath = Path.Combine(directory.FullName, "d.sock");
        string[] arguments =
        [
            "--socket", socketPath,
            "--backend", "sim",
            "--sim-memory-mib", SimMemoryMiB.ToString(System.Globalization.CultureInfo.InvariantCulture),
            "--Socket:Group=",
            $"--Device:ModuleCacheDirectory={Path.Combine(directory.FullName, "modules")}",
            .. DefaultsNotIn(extraArguments,
                $"--Limits:MaxRegionsPerSession={MaxRegionsPerSession}",
                $"--Limits:MaxInFlightStepsPerSession={MaxInFlightStepsPerSession}",
                "--Logging:LogLevel:Default=Error"),
            .. extraArguments,
        ];
        var host = DaemonHost.Build(arguments, reloadOnHangup: true, services =>
        {
            if (time is not null)
            {
                services.Replace(ServiceDescriptor.Singleton(time));
            }

            services.AddSingleton<SocketPeerIdentification>();
            services.AddSingleton(provider => new PresentedPeers(provider.GetRequiredService<SocketPeerIdentification>()));
            services.Replace(ServiceDescriptor.Singleton<IPeerIdentification>(provider => provider.GetRequiredService<PresentedPeers>()));
        });
        await host.StartAsync(TestContext.Current.CancellationToken);
        return new TestDaemon(host, directory, socketPath);
    }

    /// <summary>The test's small limits, less those the test sets itself: a setting given twice on the command line is refused.</summary>
    private static IEnumerable<string> DefaultsNotIn(string[] extraArguments, params string[] defaults) =>
        defaults.Where(setting => !extraArguments.Any(argument => argument.StartsWith(setting[..(setting.IndexOf('=') + 1)], StringComparison.Ordinal)));

    /// <summary>Reads the configuration file again, as SIGHUP does.</summary>
    public void ReloadConfiguration() => _host.Services.GetRequiredService<ConfigurationReload>().Reload();

    /// <summary>Adds a logger to the running daemon; the daemon's log levels still filter what it sees.</summary>
    public void AddLogger(ILoggerProvider provider) => _host.Services.GetRequiredService<ILoggerFactory>().AddProvider(provider);

    public Task<GpuMuxClient> ConnectAsync(string clientName = "test") =>
        GpuMuxClient.ConnectAsync(new() { Host = SocketPath, ClientName = clientName }, TestContext.Current.CancellationToken);

    /// <summary>
    /// A client the daemon takes for another process of another user: <paramref name="uid"/> (and a
    /// group of the same number), <paramref name="pid"/>, an administrator of the daemon or not.
    /// </summary>
    public Task<GpuMuxClient> ConnectAsAsync(uint uid, int pid, bool administrator = false, string clientName = "test")
    {
        PresentNext(uid, pid, administrator);
        return ConnectAsync(clientName);
    }

    /// <summary>Makes the daemon take the next client that says Hello, of whatever kind, for <paramref name="uid"/> and <paramref name="pid"/>.</summary>
    public void PresentNext(uint uid, int pid, bool administrator = false) =>
        _host.Services.GetRequiredService<PresentedPeers>().PresentNext(new PeerIdentity(new PeerCredentials(pid, uid, uid), administrator));

    public Task<FrameConnection> ConnectRawAsync() =>
        FrameConnection.ConnectAsync(SocketPath, 1 << 20, TestContext.Current.CancellationToken);

    /// <summary>A connection whose first bytes are <paramref name="bytes"/>, sent unchecked, then read as frames.</summary>
    public async Task<FrameConnection> ConnectSendingAsync(byte[] bytes)
    {
        var socket = new System.Net.Sockets.Socket(System.Net.Sockets.AddressFamily.Unix, System.Net.Sockets.SocketType.Stream, System.Net.Sockets.ProtocolType.Unspecified);
        await socket.ConnectAsync(new System.Net.Sockets.UnixDomainSocketEndPoint(SocketPath), TestContext.Current.CancellationToken);
        await socket.SendAsync(bytes, TestContext.Current.CancellationToken);
        return new FrameConnection(socket, 1 << 20);
    }

    /// <summary>Polls the daemon until <paramref name="condition"/> holds of its status; the test's own timeout bounds the wait.</summary>
    public async Task<Protocol.Messages.StatusReport> WaitForStatusAsync(GpuMuxClient observer, Func<Protocol.Messages.StatusReport, bool> condition)
    {
        var cancellation = TestContext.Current.CancellationToken;
        while (true)
        {
            var status = await observer.GetStatusAsync(cancellation);
            if (condition(status))
            {
                return status;
            }

            await Task.Delay(10, cancellation);
        }
    }

    /// <summary>The status gpumuxd's process would exit with, once the daemon has stopped.</summary>
    public int ExitCode => _host.Services.GetRequiredService<DaemonExitCode>().Value;

    /// <summary>Waits, as gpumuxd's own process does, until the daemon decides to stop, and stops it.</summary>
    public async Task WaitForShutdownAsync()
    {
        await _host.WaitForShutdownAsync(TestContext.Current.CancellationToken);
        _stopped = true;
    }

    public async Task StopAsync()
    {
        if (!_stopped)
        {
            _stopped = true;
            await _host.StopAsync(CancellationToken.None);
        }
    }

    public async ValueTask DisposeAsync()
    {
        await StopAsync();
        _host.Dispose();
        _directory.Delete(recursive: true);
    }
}
