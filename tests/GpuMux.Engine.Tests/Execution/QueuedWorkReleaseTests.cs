using GpuMux.Engine.Tenants;
using GpuMux.Engine.Tests.Scheduling;
using GpuMux.Gpu;
using GpuMux.Gpu.Sim;

namespace GpuMux.Engine.Tests.Execution;

/// <summary>
/// Memory goes back to the pool only once the work queued on it has completed: a new buffer's
/// zeroing is queued on its session's stream, and while the device's compute is busy with another
/// session's kernel it waits there. Freeing the buffer, closing the session or letting its lease
/// expire before it has run must not hand the pages back, or the zeroing would write memory that
/// is no longer the buffer's: an illegal address that resets the device under everyone.
/// </summary>
public sealed class QueuedWorkReleaseTests
{
    private const uint OwnerUid = 6001;
    private const uint BystanderUid = 6002;
    private const ulong SpinMicroseconds = 300_000;
    private const ulong BufferBytes = 8 << 20;

    [Fact]
    public async Task A_buffer_freed_while_its_zeroing_waits_for_the_device_is_freed_once_it_has_run()
    {
        var backend = Backend();
        await using var engine = await GpuEngine.StartAsync(backend, new EngineOptions(), cancellationToken: Ct);
        var (owner, _) = engine.Open();
        await using var bystander = await SpinSession.OpenAsync(engine, BystanderUid);

        bystander.Submit(1, SpinMicroseconds);
        var buffer = await owner.AllocateBufferAsync(BufferBytes, Ct);
        await owner.FreeBufferAsync(buffer, Ct);

        Assert.Equal(EngineError.None, (await bystander.Completions.NextAsync()).Status);
        await AssertNoResetAsync(engine, backend, bystander);
    }

    [Fact]
    public async Task A_session_closed_while_its_buffers_zeroing_waits_for_the_device_releases_them_once_it_has_run()
    {
        var backend = Backend();
        await using var engine = await GpuEngine.StartAsync(backend, new EngineOptions(), cancellationToken: Ct);
        var baseline = await engine.GetStatusAsync(Ct);
        var (owner, _) = engine.Open();
        await using var bystander = await SpinSession.OpenAsync(engine, BystanderUid);

        bystander.Submit(1, SpinMicroseconds);
        await owner.AllocateBufferAsync(BufferBytes, Ct);
        await owner.DisposeAsync();

        Assert.Equal(baseline.DevicePoolFreeBytes, (await engine.GetStatusAsync(Ct)).DevicePoolFreeBytes);
        Assert.Equal(EngineError.None, (await bystander.Completions.NextAsync()).Status);
        await AssertNoResetAsync(engine, backend, bystander);
    }

    [Fact]
    public async Task A_buffer_freed_by_its_lease_expiring_while_its_zeroing_waits_for_the_device_is_freed_once_it_has_run()
    {
        var backend = Backend();
        await using var engine = await GpuEngine.StartAsync(backend, new EngineOptions(), cancellationToken: Ct);
        await using var owner = await SpinSession.OpenAsync(engine, OwnerUid);
        await using var bystander = await SpinSession.OpenAsync(engine, BystanderUid);

        bystander.Submit(1, SpinMicroseconds);
        await AllocateUnderShortLeaseAsync(owner.Session);
        await WaitForLeaseExpiryAsync(owner.Session);

        Assert.Equal(EngineError.None, (await bystander.Completions.NextAsync()).Status);
        await AssertNoResetAsync(engine, backend, bystander);
    }

    private static SimBackend Backend() =>
        (SimBackend)GpuBackends.CreateSim(new GpuBackendOptions
        {
            ModuleCacheDirectory = null,
            Sim = new SimDeviceOptions { CapacityBytes = TestEngine.Capacity },
        });

    /// <summary>The zeroing has run by the time a step queued on the device after it completes; had it faulted, the device would have been reset.</summary>
    private static async Task AssertNoResetAsync(GpuEngine engine, SimBackend backend, SpinSession bystander)
    {
        bystander.Submit(2, 1_000);
        Assert.Equal(EngineError.None, (await bystander.Completions.NextAsync()).Status);
        await engine.GetStatusAsync(Ct);
        Assert.Equal(0, backend.Resets(0));
    }

    /// <summary>
    /// Allocates a buffer under a lease that ends while the bystander's kernel still holds the
    /// device. A loaded host can delay the allocation past a short lease, so each try that finds
    /// the lease already over doubles it, staying well inside the kernel's time.
    /// </summary>
    private static async Task AllocateUnderShortLeaseAsync(EngineSession session)
    {
        for (var duration = TimeSpan.FromMilliseconds(30); ; duration *= 2)
        {
            await session.AcquireLeaseAsync(new LeaseRequest(null, null, duration, 0), Ct);
            try
            {
                await session.AllocateBufferAsync(BufferBytes, Ct);
                return;
            }
            catch (EngineException e) when (e.Error == EngineError.LeaseExpired && duration < TimeSpan.FromMilliseconds(SpinMicroseconds / 4_000))
            {
                await session.ReleaseLeaseAsync(Ct);
            }
        }
    }

    private static async Task WaitForLeaseExpiryAsync(EngineSession session)
    {
        while ((await session.GetLeaseAsync(Ct))?.Expired != true)
        {
            await Task.Delay(5, Ct);
        }
    }
}
