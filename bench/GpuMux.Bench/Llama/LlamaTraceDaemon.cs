using System.Globalization;
using GpuMux.Client;
using GpuMux.Daemon;
using GpuMux.Daemon.Device;
using GpuMux.Engine;
using GpuMux.Engine.Scheduling;
using GpuMux.Gpu;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;

namespace GpuMux.Bench.Llama;

/// <summary>
/// gpumuxd in this process on a socket of its own, under one scheduling policy, with a device pool
/// of a given size: the clients talk to it through the real socket, and the benchmark reads its
/// engine's figures (swaps, pool) directly.
/// </summary>
internal sealed class LlamaTraceDaemon : IAsyncDisposable
{
    private readonly IHost _host;
    private readonly DirectoryInfo _directory;

    private LlamaTraceDaemon(IHost host, DirectoryInfo directory)
    {
        _host = host;
        _directory = directory;
    }

    public string SocketPath => Path.Combine(_directory.FullName, "d.sock");

    public GpuEngine Engine => _host.Services.GetRequiredService<EngineService>().Engine;

    public static async Task<LlamaTraceDaemon> StartAsync(BackendPreference backend, SchedulingPolicy policy, ulong devicePoolBytes, ulong pinnedPoolBytes, double swapAmortization)
    {
        var directory = Directory.CreateTempSubdirectory("gmx-trace-llama-");
        var invariant = CultureInfo.InvariantCulture;
        string[] arguments =
        [
            "--socket", Path.Combine(directory.FullName, "d.sock"),
            "--backend", backend.ToString().ToLowerInvariant(),
            // The simulated device holds the pool and no more, as a GPU's memory would be mostly the daemon's.
            "--sim-memory-mib", ((devicePoolBytes >> 20) + 64).ToString(invariant),
            "--Socket:Group=",
            $"--Device:ModuleCacheDirectory={Path.Combine(directory.FullName, "modules")}",
            $"--Memory:DevicePoolBytes={devicePoolBytes.ToString(invariant)}",
            $"--Memory:PinnedPoolBytes={pinnedPoolBytes.ToString(invariant)}",
            $"--Scheduling:Policy={policy.ToString().ToLowerInvariant()}",
            $"--Scheduling:SwapAmortization={swapAmortization.ToString(invariant)}",
            "--Logging:LogLevel:Default=Error",
        ];
        var host = DaemonHost.Build(arguments, reloadOnHangup: false);
        try
        {
            await host.StartAsync().ConfigureAwait(false);
        }
        catch
        {
            host.Dispose();
            directory.Delete(recursive: true);
            throw;
        }
        return new LlamaTraceDaemon(host, directory);
    }

    /// <summary>A client session of its own, as a separate service's would be.</summary>
    public Task<GpuMuxClient> ConnectAsync(string name) =>
        GpuMuxClient.ConnectAsync(new GpuMuxClientOptions { Host = SocketPath, ClientName = name });

    public async ValueTask DisposeAsync()
    {
        await _host.StopAsync().ConfigureAwait(false);
        _host.Dispose();
        _directory.Delete(recursive: true);
    }
}
