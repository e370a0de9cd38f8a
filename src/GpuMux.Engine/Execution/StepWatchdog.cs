using GpuMux.Engine.Device;
using GpuMux.Engine.Scheduling;
using GpuMux.Engine.Sessions;

namespace GpuMux.Engine.Execution;

/// <summary>
/// Finds a step that has been on the device longer than its class's
/// <see cref="PriorityClassOptions.MaxStepTime"/>. A session's steps run one after another on its
/// stream, so only the oldest of each can be on the device; it is there from when its start event
/// completed (or, issued in parts, from when its last part was queued), and every moment since
/// counts, waiting for the multiprocessors included, which is why the limit is set far above any
/// honest step's time.
/// <para>
/// The device cannot tell a kernel that runs from one that waits behind another's, and at kernel
/// boundaries a later step of a higher class, or one queued earlier, goes first: a step that
/// started first may have waited its whole limit behind a kernel that will not end. So the step
/// past its limit is pinned as the cause only when it is <i>alone</i>, no other step having
/// started on the device; otherwise nothing tells which of them holds it.
/// </para>
/// Engine thread only; allocates nothing.
/// </summary>
internal sealed class StepWatchdog(IReadOnlyList<PriorityClass> classes)
{
    /// <summary>The step whose limit passed first, if any has; <paramref name="alone"/> says whether it is the only step started on the device.</summary>
    public Step? FindOverrun(List<SessionState> busy, long nowNs, out bool alone)
    {
        Step? first = null;
        var firstDeadline = long.MaxValue;
        foreach (var session in busy)
        {
            if (!session.InFlight.TryPeek(out var step) || step.IsSuspended)
            {
                continue;
            }
            var limit = classes[step.ClassIndex].MaxStepNs;
            // A step is queued whole before it can start, so most are passed over without an event query.
            if (nowNs - step.IssuedAtNs <= limit || !HasStarted(step))
            {
                continue;
            }
            var deadline = step.DeviceStartNs + limit;
            if (deadline < nowNs && deadline < firstDeadline)
            {
                (first, firstDeadline) = (step, deadline);
            }
        }
        alone = first is not null && IsAlone(first, busy);
        return first;
    }

    /// <summary>Whether the step's start event has completed, noting when on the host clock.</summary>
    private static bool HasStarted(Step step)
    {
        if (step.DeviceStartNs == 0)
        {
            var timing = step.Timing!;
            if (!timing.Start.IsComplete())
            {
                return false;
            }
            step.DeviceStartNs = Math.Max(step.IssuedAtNs, GpuTimeline.HostNanoseconds(timing.Anchor, timing.Start));
        }
        return true;
    }

    private static bool IsAlone(Step step, List<SessionState> busy)
    {
        foreach (var session in busy)
        {
            if (session.InFlight.TryPeek(out var other) && other != step && other.Timing!.Start.IsComplete())
            {
                return false;
            }
        }
        return true;
    }
}
