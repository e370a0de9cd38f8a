using System.Diagnostics.Metrics;
using GpuMux.Engine.Device;
using GpuMux.Engine.Execution;
using GpuMux.Engine.Metrics;
using GpuMux.Engine.Models;
using GpuMux.Engine.Scheduling;
using GpuMux.Engine.Sessions;
using GpuMux.Engine.Tenants;
using GpuMux.Gpu;
using Microsoft.Extensions.Logging.Abstractions;

namespace GpuMux.Engine.Tests.Scheduling;

/// <summary>
/// The scheduler with no device, holding a fixed number of steps spread evenly over tenants of
/// unequal weights, each with a session in each of the three default classes. Each
/// <see cref="Decide"/> is what the engine thread does for every step: the oldest step on the
/// device is booked as done after 100 us of device time, its session submits it again, and the
/// scheduler picks what goes in the place it freed. The classes below the first earn their
/// minimum shares and take turns. Shared with the scheduler's benchmark, which times it.
/// </summary>
internal sealed class HeldStepsRig : IDisposable
{
    private const long StepDeviceNs = 100_000;

    private readonly IssuedSteps _issued = new();
    private readonly StepLedger _ledger;
    private readonly StepScheduler _scheduler;
    private readonly ModelStore _models;
    private readonly Meter _meter = new("GpuMux.Scheduling.HeldStepsRig");
    private long _deviceNs;

    public HeldStepsRig(int heldSteps, int tenants)
    {
        var options = new EngineOptions();
        var scheduling = options.Scheduling;
        var classes = new PriorityClass[scheduling.Classes.Count];
        for (var i = 0; i < classes.Length; i++)
        {
            classes[i] = new PriorityClass(i, scheduling.Classes[i], streamPriority: -i, scheduling.ShareWindow);
        }
        var metrics = new EngineMetrics(_meter, NoGpu, [.. scheduling.Classes.Select(c => c.Name)]);
        _ledger = new StepLedger(classes, metrics);
        _models = new ModelStore(options, static _ => { }, NullLogger.Instance, metrics, new BufferSpills([], metrics));
        _scheduler = new StepScheduler(scheduling, classes, _issued, new StepExecutor(NullLogger.Instance, _ledger, metrics), _models);

        var sessions = new List<SessionState>();
        for (var t = 0; t < tenants; t++)
        {
            var tenant = new Tenant((uint)(1000 + t), new TenantLimits { Weight = 1 + (t % 4) });
            for (var c = 0; c < classes.Length; c++)
            {
                // The scheduler never reaches a session's client side: no step fails here.
                var session = new SessionState(null!, options);
                session.Open(tenant, c, classes[c].StreamPriority, device: null);
                sessions.Add(session);
            }
        }
        // As many more as the classes may have on the device, so that heldSteps stay held.
        var steps = heldSteps + (scheduling.StepsOnDevicePerClass * classes.Length);
        for (var i = 0; i < steps; i++)
        {
            _scheduler.Enqueue(new Step(), sessions[i % sessions.Count], NoDevice);
        }
    }

    public int Held => _scheduler.Held;

    // Issued steps go to IssuedSteps, which never touches a device, and no step has a model to prefetch.
    private static DeviceContext NoDevice => null!;

    private static GpuDeviceInfo NoGpu { get; } = new()
    {
        Ordinal = 0,
        Name = "none",
        ComputeCapability = new ComputeCapability(9, 0),
        TotalMemoryBytes = 0,
        MultiprocessorCount = 0,
        PciBusId = "none",
        Uuid = "none",
        MaxThreadsPerBlock = 0,
        MaxBlockDim = default,
        MaxGridDim = default,
        MaxSharedMemoryPerBlock = 0,
        SupportsVirtualMemory = false,
        IsSimulated = true,
    };

    /// <summary>Completes the oldest issued step and submits it again; the scheduler issues what goes next. Returns the steps held.</summary>
    public int Decide()
    {
        var (step, session) = _issued.TakeOldest();
        _deviceNs += StepDeviceNs;
        _ledger.Record(step, session, startedAtNs: _deviceNs, charged: StepDeviceNs);
        _scheduler.Enqueue(step, session, NoDevice);
        return _scheduler.Held;
    }

    public void Dispose()
    {
        _models.Dispose();
        _meter.Dispose();
    }

    /// <summary>Stands in for the dispatcher and the device: keeps the issued steps, oldest first.</summary>
    private sealed class IssuedSteps : IStepIssuer
    {
        private readonly Queue<(Step Step, SessionState Session)> _onDevice = new();

        public bool HasWaiting => false;

        public void Submit(Step step, SessionState session, DeviceContext device) => _onDevice.Enqueue((step, session));

        public bool ReleaseAfterWaitingSteps(SessionState session, Action release)
        {
            release();
            return false;
        }

        public (Step Step, SessionState Session) TakeOldest() => _onDevice.Dequeue();
    }
}
