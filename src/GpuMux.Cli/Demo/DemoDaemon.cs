using GpuMux.Daemon;
using GpuMux.Gpu;
using Microsoft.Extensions.Hosting;

namespace GpuMux.Cli.Demo;

/// <summary>
/// A gpumuxd run inside this process for the demo, on a socket in a private temporary directory,
/// for when no daemon is running. Disposing it stops it and removes the directory.
/// </summary>
internal sealed class DemoDaemon : IAsyncDisposable
{
    private readonly IHost _host;
    private readonly DirectoryInfo _directory;

    private DemoDaemon(IHost host, DirectoryInfo directory, string socketPath)
    {
        _host = host;
        _directory = directory;
        SocketPath = socketPath;
    }

    public string SocketPath { get; }

    /// <summary>Returns once the daemon listens.</summary>
    public static async Task<DemoDaemon> StartAsync(BackendPreference backend, CancellationToken cancellationToken)
    {
        // Created mode 0700, so nobody else can reach the socket.
        var directory = Directory.CreateTempSubdirectory($"gpumux-demo-{Environment.ProcessId}-");
        var socketPath = Path.Combine(directory.FullName, "gpumuxd.sock");
        var host = DaemonHost.Build(
        [
            "--socket", socketPath,
            "--backend", backend.ToString().ToLowerInvariant(),
            // Its log would write over the live view, and the demo reports failures itself.
            "--Logging:LogLevel:Default=Critical",
        ], reloadOnHangup: false);
        try
        {
            await host.StartAsync(cancellationToken);
            return new DemoDaemon(host, directory, socketPath);
        }
        catch
        {
            host.Dispose();
            directory.Delete(recursive: true);
            throw;
        }
    }

    public async ValueTask DisposeAsync()
    {
        await _host.StopAsync();
        _host.Dispose();
        _directory.Delete(recursive: true);
    }
}
