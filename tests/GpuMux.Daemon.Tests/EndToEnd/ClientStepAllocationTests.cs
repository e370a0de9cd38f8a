using GpuMux.Client;

namespace GpuMux.Daemon.Tests.EndToEnd;

/// <summary>
/// The .NET client's step path allocates nothing once warm, with one step in flight or several:
/// the step encoded and sent, its completion received, matched and handed back to the caller. The
/// daemon runs as a process of its own, so that what this process allocates is the client's.
/// </summary>
/// <remarks>
/// A count, not a time, in the collection that runs alone. Any object is at least 24 bytes, so an
/// eighth of a byte a step means no step allocated; <see cref="AllocationCount"/> leaves the thread
/// pool's growth out.
/// </remarks>
[Collection(nameof(StepAllocationTests))]
public sealed class ClientStepAllocationTests : IDisposable
{
    private const int WarmUpSteps = 2_000;
    private const int CountedSteps = 20_000;

    // An eighth of a byte a step: room for the lanes' own tasks (some 240 bytes a lane) and little
    // else, where a client that allocated in one step of a hundred would go over.
    private const int MaxBytes = CountedSteps / 8;

    private readonly DirectoryInfo _directory = Directory.CreateTempSubdirectory("gmx-client-alloc-");

    public void Dispose() => _directory.Delete(recursive: true);

    [Theory]
    [InlineData(1)]
    [InlineData(8)]
    public async Task A_warm_client_runs_steps_without_allocating(int inFlight)
    {
        var socketPath = Path.Combine(_directory.FullName, "d.sock");
        using var gpumuxd = GpumuxdProcess.Start(
            _directory.FullName,
            "--socket", socketPath,
            "--backend", "sim",
            "--sim-memory-mib", "64",
            "--Socket:Group=",
            $"--Device:ModuleCacheDirectory={Path.Combine(_directory.FullName, "modules")}",
            "--Logging:LogLevel:Default=Warning",
            "--Logging:LogLevel:GpuMux.Daemon.Connections.SocketServer=Information");
        await gpumuxd.WaitForOutputAsync("GpuMux.Daemon.Connections.SocketServer[300]");
        await using var client = await GpuMuxClient.ConnectAsync(new() { Host = socketPath, ClientName = "allocations" }, TestContext.Current.CancellationToken);
        var lanes = Enumerable.Range(0, inFlight).Select(_ => new StepBuilder()).ToArray();

        await RunAsync(client, lanes, WarmUpSteps);
        var allocated = await AllocationCount.LeastAsync(() => RunAsync(client, lanes, CountedSteps), MaxBytes);

        Assert.True(allocated < MaxBytes, $"{CountedSteps} steps, {inFlight} in flight, allocated {allocated} bytes at the least of the counts the thread pool left alone ({(double)allocated / CountedSteps:F1} per step)");
    }

    /// <summary>Keeps one step in flight per lane; the lanes' own tasks are made before the count starts.</summary>
    private static async Task RunAsync(GpuMuxClient client, StepBuilder[] lanes, int steps)
    {
        var running = new Task[lanes.Length];
        for (var i = 0; i < lanes.Length; i++)
        {
            running[i] = LaneAsync(client, lanes[i], steps / lanes.Length);
        }

        await Task.WhenAll(running);
    }

    private static async Task LaneAsync(GpuMuxClient client, StepBuilder step, int steps)
    {
        var cancellationToken = TestContext.Current.CancellationToken;
        for (var i = 0; i < steps; i++)
        {
            // Not back to the test's synchronization context, whose posts would be counted as the client's.
            await client.SubmitAsync(step, cancellationToken).ConfigureAwait(false);
        }
    }
}
