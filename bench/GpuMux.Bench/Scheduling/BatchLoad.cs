using GpuMux.Engine;
using GpuMux.Engine.Device;
using GpuMux.Engine.Tenants;
using GpuMux.Gpu.Kernels;

namespace GpuMux.Bench.Scheduling;

/// <summary>
/// A batch tenant keeping the device saturated: a session of its own under a lease in its class,
/// with a fixed number of spin steps submitted at all times, each replaced as it completes.
/// </summary>
internal sealed class BatchLoad : IAsyncDisposable
{
    private readonly EngineSession _session;
    private readonly StepWaiters _waiters;
    private readonly uint _spin;
    private readonly SpinShape _shape;
    private readonly ulong _microseconds;
    private readonly long _startedAtNs;
    private Task[] _loops = [];
    private long _completed;
    private volatile bool _stopping;

    private BatchLoad(EngineSession session, StepWaiters waiters, uint spin, SpinShape shape, ulong microseconds)
    {
        _session = session;
        _waiters = waiters;
        _spin = spin;
        _shape = shape;
        _microseconds = microseconds;
        _startedAtNs = MonotonicClock.NowNanoseconds();
    }

    public static async Task<BatchLoad> StartAsync(GpuEngine engine, SessionIdentity identity, string priorityClass, int inFlight, ulong microseconds)
    {
        var waiters = new StepWaiters();
        var session = engine.OpenSession(identity, waiters);
        try
        {
            await session.AcquireLeaseAsync(new LeaseRequest(priorityClass, null, null, 0)).ConfigureAwait(false);
            var spin = await session.GetFunctionAsync(0, KernelNames.Spin).ConfigureAwait(false);
            var load = new BatchLoad(session, waiters, spin, SpinShape.FillingDevice(engine.Device), microseconds);
            load._loops = [.. Enumerable.Range(0, inFlight).Select(_ => load.KeepSubmittingAsync())];
            return load;
        }
        catch
        {
            await session.DisposeAsync().ConfigureAwait(false);
            throw;
        }
    }

    /// <summary>Stops submitting, waits for the steps in flight, and returns the device's busy share from the batch steps alone since the start.</summary>
    public async Task<BatchFigures> StopAsync()
    {
        _stopping = true;
        await Task.WhenAll(_loops).ConfigureAwait(false);
        var elapsedNs = MonotonicClock.NowNanoseconds() - _startedAtNs;
        var completed = Interlocked.Read(ref _completed);
        return new BatchFigures(completed, completed * (double)_microseconds * 1e3 / elapsedNs);
    }

    public ValueTask DisposeAsync() => _session.DisposeAsync();

    private async Task KeepSubmittingAsync()
    {
        while (!_stopping)
        {
            var step = _session.RentStep();
            _shape.AddTo(step, _spin, _microseconds);
            (await _waiters.SubmitAsync(_session, step).ConfigureAwait(false)).ThrowIfFailed("a batch step");
            Interlocked.Increment(ref _completed);
        }
    }
}

/// <summary>Batch steps completed, and the share of the time the device spent on them.</summary>
internal readonly record struct BatchFigures(long Steps, double BusyShare);
