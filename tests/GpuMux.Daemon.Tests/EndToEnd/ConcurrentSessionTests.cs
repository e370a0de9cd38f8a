using GpuMux.Client;
using GpuMux.Protocol.Messages;

namespace GpuMux.Daemon.Tests.EndToEnd;

public sealed class ConcurrentSessionTests
{
    [Fact]
    public async Task Concurrent_clients_each_get_their_own_correct_results()
    {
        await using var daemon = await TestDaemon.StartAsync();
        var clients = await Task.WhenAll(Enumerable.Range(0, 4).Select(i => daemon.ConnectAsync($"client-{i}")));
        try
        {
            await Task.WhenAll(
                Task.Run(() => Workloads.AxpyAsync(clients[0], seed: 1, steps: 25), TestContext.Current.CancellationToken),
                Task.Run(() => Workloads.AxpyAsync(clients[1], seed: 2, steps: 25), TestContext.Current.CancellationToken),
                Task.Run(() => Workloads.GemvAsync(clients[2], seed: 3, steps: 25), TestContext.Current.CancellationToken),
                Task.Run(() => Workloads.ChecksumAsync(clients[3], seed: 4, steps: 10), TestContext.Current.CancellationToken));
        }
        finally
        {
            foreach (var client in clients)
            {
                await client.DisposeAsync();
            }
        }
    }

    [Fact]
    public async Task The_welcome_names_the_sim_backend_and_its_device()
    {
        await using var daemon = await TestDaemon.StartAsync();
        await using var client = await daemon.ConnectAsync();

        Assert.Equal(BackendKind.Sim, client.Backend);
        var device = Assert.Single(client.Devices);
        Assert.Equal((ulong)TestDaemon.SimMemoryMiB << 20, device.TotalMemoryBytes);
        Assert.NotEqual(0UL, client.SessionId);
    }

    [Fact]
    public async Task Many_steps_in_flight_complete_each_with_its_timings()
    {
        await using var daemon = await TestDaemon.StartAsync();
        await using var client = await daemon.ConnectAsync();
        var empty = new StepBuilder();

        var results = await Task.WhenAll(Enumerable.Range(0, TestDaemon.MaxInFlightStepsPerSession)
            .Select(_ => client.SubmitAsync(empty, TestContext.Current.CancellationToken).AsTask()));

        Assert.All(results, result =>
        {
            Assert.True(result.QueuedAtNs > 0);
            Assert.InRange(result.StartedAtNs, result.QueuedAtNs, result.EndedAtNs);
            Assert.InRange(result.EndedAtNs, result.StartedAtNs, result.CompletedAtNs);
        });
    }

    [Fact]
    public async Task Status_lists_each_session_with_its_peer_credentials_and_holdings()
    {
        await using var daemon = await TestDaemon.StartAsync();
        await using var worker = await daemon.ConnectAsync("worker");
        await using var observer = await daemon.ConnectAsync("observer");
        await using var buffer = await worker.AllocateBufferAsync(1 << 20, TestContext.Current.CancellationToken);
        await using var region = await worker.CreateRegionAsync(4096, TestContext.Current.CancellationToken);

        var status = await observer.GetStatusAsync(TestContext.Current.CancellationToken);

        Assert.Equal(2u, status.SessionsTotal);
        var entry = Assert.Single(status.Sessions, s => s.ClientName == "worker");
        Assert.Equal(worker.SessionId, entry.SessionId);
        Assert.Equal(Environment.ProcessId, entry.Pid);
        Assert.Equal((1u, 1UL << 20, 1u, 4096UL), (entry.Buffers, entry.BufferBytes, entry.Regions, entry.RegionBytes));
        Assert.True(status.SessionBytes >= 1UL << 20);
    }
}
