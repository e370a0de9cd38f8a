using GpuMux.Engine.Device;
using GpuMux.Engine.Sessions;

namespace GpuMux.Engine.Execution;

/// <summary>
/// Charges each step the device time of its own ops, from the marks around them
/// (<see cref="StepTiming"/>). An op's span runs from the mark before it to the mark after it,
/// so it also holds the time the op waited for its engine behind another stream's work; since
/// an engine runs one op at a time, the spans of one engine are taken in the order they ended
/// and each is charged only from the end of the one before it. So when another tenant's kernel
/// runs between a step's copy and its next kernel, that kernel's tenant is charged for it, not
/// the step that waited. Copies are charged on the copy engine of their direction, which runs
/// beside the compute engine. Kernels of different streams that a GPU runs at once are charged
/// one after the other, the one that ended last for what the other had not covered. Engine
/// thread only.
/// </summary>
internal sealed class StepCharges
{
    // A mark can complete between the queries of one pass, after a later one was found: another
    // pass finds it, and the spans found are then in order once a pass finds nothing new.
    private const int MaxPasses = 4;

    private readonly long[] _busyUntilNs = new long[Enum.GetValues<DeviceEngine>().Length];
    private readonly List<OpSpan> _found = [];

    /// <summary>Reads the marks of every step on the device that have completed, and charges the ops they close, in the order they ended.</summary>
    public void Update(List<SessionState> busy)
    {
        for (var pass = 0; pass < MaxPasses; pass++)
        {
            var before = _found.Count;
            foreach (var session in busy)
            {
                // A session's steps run one after another on its stream: past one not done, none has started.
                foreach (var step in session.InFlight)
                {
                    if (!Read(step.Timing!))
                    {
                        break;
                    }
                }
            }
            if (_found.Count == before)
            {
                break;
            }
        }
        _found.Sort(static (a, b) => a.EndNs.CompareTo(b.EndNs));
        foreach (var span in _found)
        {
            ref var busyUntil = ref _busyUntilNs[(int)span.RanOn];
            span.Timing.ChargedNs += Math.Max(0, span.EndNs - Math.Max(span.StartNs, busyUntil));
            busyUntil = Math.Max(busyUntil, span.EndNs);
        }
        _found.Clear();
    }

    /// <summary>Reads the step's marks that have completed, from the first not yet read; true when all of them have.</summary>
    private bool Read(StepTiming timing)
    {
        while (timing.Known < timing.Count)
        {
            var marker = timing.MarkAt(timing.Known);
            if (!marker.IsComplete())
            {
                return false;
            }
            // Two marks of one stream can come out tied or crossed in the float the driver gives.
            var at = Math.Max(timing.LatestNs, GpuTimeline.HostNanoseconds(timing.Anchor, marker));
            if (timing.Known == 0)
            {
                timing.StartedAtNs = at;
            }
            else if (timing.RanBefore(timing.Known) != DeviceEngine.None)
            {
                _found.Add(new OpSpan(timing, timing.RanBefore(timing.Known), timing.LatestNs, at));
            }
            timing.LatestNs = at;
            timing.Known++;
        }
        return timing.IsClosed;
    }

    private readonly record struct OpSpan(StepTiming Timing, DeviceEngine RanOn, long StartNs, long EndNs);
}
