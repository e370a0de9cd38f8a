using GpuMux.Engine.Device;
using GpuMux.Engine.Scheduling;
using GpuMux.Engine.Sessions;

namespace GpuMux.Engine.Execution;

/// <summary>
/// Finds a step that has been on the device longer than its class's
/// <see cref="PriorityClassOptions.MaxStepTime"/>. A session's steps run one after another on its
/// stream, so only the oldest of each can be on the device; it is there from when its start event
/// completed (or, issued in parts, from when its last part was queued), and every moment since
/// counts, waiting for the multiprocessors included: the device cannot tell a kernel that runs from
/// one that waits behind another's, which is why the limit is set far above any honest step's time.
/// Of the steps past their limits, the one whose limit passed first is taken: usually the one
/// whose kernel will not end, which started before the steps held up behind it. (A step that
/// reached the device first and then waited behind that kernel for its whole limit would be taken
/// in its place.) Engine thread only; allocates nothing.
/// </summary>
internal sealed class StepWatchdog(IReadOnlyList<PriorityClass> classes)
{
    public Step? FindOverrun(List<SessionState> busy, long nowNs)
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
            if (nowNs - step.IssuedAtNs <= limit)
            {
                continue;
            }
            if (step.DeviceStartNs == 0)
            {
                if (!step.Timing.Start.IsComplete())
                {
                    continue;
                }
                step.DeviceStartNs = Math.Max(step.IssuedAtNs, GpuTimeline.HostNanoseconds(step.Timing.Anchor, step.Timing.Start));
            }
            var deadline = step.DeviceStartNs + limit;
            if (deadline < nowNs && deadline < firstDeadline)
            {
                (first, firstDeadline) = (step, deadline);
            }
        }
        return first;
    }
}
