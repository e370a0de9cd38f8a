using GpuMux.Bench.Scheduling;
using GpuMux.Engine;
using GpuMux.Engine.Tenants;
using GpuMux.Gpu;
using GpuMux.Gpu.Kernels;

namespace GpuMux.Bench.Accounting;

/// <summary>One case of the charge benchmark: tenants of unequal weights keeping one class busy on an engine of their own.</summary>
internal static class ChargeBenchmark
{
    public const uint FirstUid = 2001;

    private const ulong DevicePoolBytes = 64UL << 20;

    public static int WeightOf(int tenant) => 1 + (tenant % 4);

    public static int KernelMicrosecondsOf(int tenant, ChargeOptions options) => (1 + (tenant % 3)) * options.StepMicroseconds;

    /// <param name="kernelOverhead">What the device adds to each kernel's own time (the Sim's modelled fixed cost; none on a GPU, whose spin waits its time).</param>
    public static async Task<ChargeCase> MeasureAsync(GpuBackend backend, ChargeOptions options, TimeSpan kernelOverhead, int tenants)
    {
        var limits = Enumerable.Range(0, tenants).ToDictionary(i => FirstUid + (uint)i, i => new TenantLimits { Weight = WeightOf(i) });
        var engineOptions = new EngineOptions
        {
            DevicePoolBytes = DevicePoolBytes,
            PinnedPoolBytes = 0,
            Tenants = new TenantLimitsOptions { ByUid = limits },
        };
        await using var engine = await GpuEngine.StartAsync(backend, engineOptions).ConfigureAwait(false);
        var loads = new List<TenantLoad>();
        try
        {
            for (var i = 0; i < tenants; i++)
            {
                loads.Add(await TenantLoad.StartAsync(engine, FirstUid + (uint)i, KernelMicrosecondsOf(i, options), options.InFlight).ConfigureAwait(false));
            }
            var windows = new List<double>();
            var previous = await ChargedAsync(engine, tenants).ConfigureAwait(false);
            for (var second = 0; second < options.Seconds; second++)
            {
                await Task.Delay(TimeSpan.FromSeconds(1)).ConfigureAwait(false);
                var now = await ChargedAsync(engine, tenants).ConfigureAwait(false);
                if (second > 0)
                {
                    windows.Add(JainIndex([.. Enumerable.Range(0, tenants).Select(i => (now[i] - previous[i]) / WeightOf(i))]));
                }
                previous = now;
            }
            foreach (var load in loads)
            {
                await load.StopAsync().ConfigureAwait(false);
            }
            var charged = await ChargedAsync(engine, tenants).ConfigureAwait(false);
            var rows = Enumerable.Range(0, tenants)
                .Select(i => new TenantCharge(FirstUid + (uint)i, WeightOf(i), loads[i].Completed, loads[i].Completed * ((KernelMicrosecondsOf(i, options) / 1e6) + kernelOverhead.TotalSeconds), charged[i]))
                .ToList();
            return new ChargeCase(tenants, rows, windows);
        }
        finally
        {
            foreach (var load in loads)
            {
                await load.DisposeAsync().ConfigureAwait(false);
            }
        }
    }

    /// <summary>(sum x)^2 / (n sum x^2): 1 when every tenant got the same, 1/n when one got everything.</summary>
    public static double JainIndex(IReadOnlyList<double> shares)
    {
        var sum = shares.Sum();
        var squares = shares.Sum(x => x * x);
        return squares == 0 ? 1 : sum * sum / (shares.Count * squares);
    }

    private static async Task<double[]> ChargedAsync(GpuEngine engine, int tenants)
    {
        var all = await engine.GetTenantsAsync().ConfigureAwait(false);
        return [.. Enumerable.Range(0, tenants).Select(i => all.FirstOrDefault(t => t.Uid == FirstUid + (uint)i)?.Usage.GpuSeconds ?? 0)];
    }

    /// <summary>One tenant keeping a fixed number of spin steps submitted in the standard class.</summary>
    private sealed class TenantLoad : IAsyncDisposable
    {
        private readonly EngineSession _session;
        private readonly StepWaiters _waiters;
        private readonly uint _spin;
        private readonly ulong _microseconds;
        private Task[] _loops = [];
        private long _completed;
        private volatile bool _stopping;

        private TenantLoad(EngineSession session, StepWaiters waiters, uint spin, ulong microseconds)
        {
            _session = session;
            _waiters = waiters;
            _spin = spin;
            _microseconds = microseconds;
        }

        public long Completed => Interlocked.Read(ref _completed);

        public static async Task<TenantLoad> StartAsync(GpuEngine engine, uint uid, int microseconds, int inFlight)
        {
            var waiters = new StepWaiters();
            var session = engine.OpenSession(new SessionIdentity(uid, uid, Environment.ProcessId, "GpuMux.Bench charge"), waiters);
            try
            {
                var spin = await session.GetFunctionAsync(0, KernelNames.Spin).ConfigureAwait(false);
                var load = new TenantLoad(session, waiters, spin, (ulong)microseconds);
                load._loops = [.. Enumerable.Range(0, inFlight).Select(_ => load.KeepSubmittingAsync())];
                return load;
            }
            catch
            {
                await session.DisposeAsync().ConfigureAwait(false);
                throw;
            }
        }

        public async Task StopAsync()
        {
            _stopping = true;
            await Task.WhenAll(_loops).ConfigureAwait(false);
        }

        public ValueTask DisposeAsync() => _session.DisposeAsync();

        private async Task KeepSubmittingAsync()
        {
            while (!_stopping)
            {
                var step = _session.RentStep();
                SpinShape.OneWarp.AddTo(step, _spin, _microseconds);
                (await _waiters.SubmitAsync(_session, step).ConfigureAwait(false)).ThrowIfFailed("a tenant's step");
                Interlocked.Increment(ref _completed);
            }
        }
    }
}

/// <summary>One tenant's steps, the kernel time they asked for and the device time it was charged, in seconds.</summary>
internal sealed record TenantCharge(uint Uid, int Weight, long Steps, double KernelSeconds, double ChargedSeconds)
{
    public double Error => KernelSeconds == 0 ? 0 : (ChargedSeconds - KernelSeconds) / KernelSeconds;
}

/// <summary>A case: its tenants, and Jain's index of their weighted charges in each 1-second window after the first.</summary>
internal sealed record ChargeCase(int Tenants, IReadOnlyList<TenantCharge> Rows, IReadOnlyList<double> Windows)
{
    public double WorstError => Rows.Max(r => Math.Abs(r.Error));

    public double WorstWindow => Windows.Count == 0 ? double.NaN : Windows.Min();
}
