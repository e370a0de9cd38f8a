using GpuMux.Engine.Device;
using GpuMux.Engine.Execution;
using GpuMux.Engine.Metrics;
using GpuMux.Engine.Sessions;

namespace GpuMux.Engine.Scheduling;

/// <summary>
/// Books every step the scheduler issued once it is off the device: frees its place in its
/// class, and charges its device time to the class (starvation bound), to its tenant's fair
/// share, daily limit and accounts, to its model, and to its session's lease. The device time
/// is that of the step's own ops, as <see cref="Execution.StepCharges"/> measured it, so a step
/// is not charged for time it spent queued behind another, of its class or of a class above
/// it, nor for another stream's kernel that ran between its own ops. Engine thread only.
/// </summary>
internal sealed class StepLedger(IReadOnlyList<PriorityClass> classes, EngineMetrics metrics)
{
    private readonly List<SessionState> _spentLeases = [];

    public IReadOnlyList<PriorityClass> Classes { get; } = classes;

    public bool HasSpentLeases => _spentLeases.Count > 0;

    /// <summary>Books a step; <paramref name="startedAtNs"/> is 0 for one that never reached the device.</summary>
    public void Record(Step step, SessionState session, long startedAtNs, long charged)
    {
        if (step.ClassIndex < 0)
        {
            return;
        }
        var priorityClass = Classes[step.ClassIndex];
        step.ClassIndex = -1;
        priorityClass.Completed(step);
        var now = MonotonicClock.NowNanoseconds();
        var tenant = session.Tenant;
        var classTenant = priorityClass.TenantFor(tenant);
        classTenant.Charge(charged - step.EstimatedNs);
        classTenant.Measured(charged);
        priorityClass.Share.Add(charged, now);
        metrics.DeviceTimeCharged(priorityClass.Index, charged);
        tenant.Day.Add(charged, now);
        if (startedAtNs > 0)
        {
            var bytes = CopiedBytes(step);
            var delay = Math.Max(0, startedAtNs - step.QueuedAtNs);
            tenant.Usage.AddStep(charged, bytes, delay);
            step.UsedModel?.Usage.AddStep(charged, bytes, delay);
        }
        if (step.UsedModel is { } model)
        {
            model.TurnLeftNs -= charged;
            model.LastActiveNs = now;
            model.InRequest &= !step.EndsRequest;
        }
        if (session.Lease is { Expired: false } lease)
        {
            lease.UsedGpuNs += charged;
            if (lease.IsSpent(now) && !_spentLeases.Contains(session))
            {
                _spentLeases.Add(session);
            }
        }
    }

    /// <summary>Sessions whose leases a step has just spent, for the engine to expire.</summary>
    public void TakeSpentLeases(List<SessionState> into)
    {
        into.AddRange(_spentLeases);
        _spentLeases.Clear();
    }

    private static ulong CopiedBytes(Step step)
    {
        ulong bytes = 0;
        foreach (var op in step.Ops)
        {
            if (op.Kind is StepOpKind.CopyIn or StepOpKind.CopyOut)
            {
                bytes += op.Bytes;
            }
        }
        return bytes;
    }
}
