using GpuMux.Gpu;

namespace GpuMux.Engine.Device;

/// <summary>The part of the device an op of a step runs on; ops on different engines run side by side.</summary>
internal enum DeviceEngine : byte
{
    /// <summary>Nothing the step is charged for: the stream waited (for the step's turn, or a model's weights).</summary>
    None,
    Compute,
    CopyIn,
    CopyOut,
}

/// <summary>
/// The events of one step on its stream: one before its first op and one after each op it
/// queued (and after each wait for a model's weights), each saying which engine ran what came
/// before it, all measured from the anchor that was current when the step began. Pooled with
/// its events by <see cref="DeviceContext"/>, so a warm engine allocates nothing per step.
/// </summary>
internal sealed class StepTiming
{
    private GpuEvent[] _marks = new GpuEvent[8];
    private DeviceEngine[] _ranOn = new DeviceEngine[8];

    public TimingAnchor Anchor { get; private set; } = null!;

    public int Count { get; private set; }

    /// <summary>Marks whose time is known, from the first: <see cref="Execution.StepCharges"/> reads them in order.</summary>
    public int Known { get; set; }

    /// <summary>The last mark is recorded: nothing more of the step is queued.</summary>
    public bool IsClosed { get; private set; }

    /// <summary>Every mark is recorded and known: the step is off the device.</summary>
    public bool IsDone => IsClosed && Known == Count;

    public GpuEvent Start => _marks[0];

    /// <summary>When the first and the last known mark completed, on the host clock.</summary>
    public long StartedAtNs { get; set; }

    public long LatestNs { get; set; }

    /// <summary>The device time of its own ops, as <see cref="Execution.StepCharges"/> found it.</summary>
    public long ChargedNs { get; set; }

    public GpuEvent MarkAt(int index) => _marks[index];

    public DeviceEngine RanBefore(int index) => _ranOn[index];

    public void Open(TimingAnchor anchor) => Anchor = anchor;

    /// <summary>Records a mark on <paramref name="stream"/> after what ran on <paramref name="ranOn"/>; a mark that cannot be recorded goes back to <paramref name="events"/>.</summary>
    public void Mark(GpuStream stream, EventPool events, DeviceEngine ranOn)
    {
        if (Count == _marks.Length)
        {
            Array.Resize(ref _marks, Count * 2);
            Array.Resize(ref _ranOn, Count * 2);
        }
        var marker = events.Rent();
        try
        {
            stream.Record(marker);
        }
        catch
        {
            events.Return(marker);
            throw;
        }
        _marks[Count] = marker;
        _ranOn[Count] = ranOn;
        Count++;
    }

    /// <summary>Ends the step's marks; a step that queued nothing gets a last mark of its own.</summary>
    public void Close(GpuStream stream, EventPool events)
    {
        if (Count == 1)
        {
            Mark(stream, events, DeviceEngine.None);
        }
        IsClosed = true;
    }

    /// <summary>Gives its events back to <paramref name="events"/> and clears the timing for its next step.</summary>
    public void Clear(EventPool events)
    {
        for (var i = 0; i < Count; i++)
        {
            events.Return(_marks[i]);
            _marks[i] = null!;
        }
        Anchor = null!;
        Count = 0;
        Known = 0;
        IsClosed = false;
        StartedAtNs = 0;
        LatestNs = 0;
        ChargedNs = 0;
    }
}
