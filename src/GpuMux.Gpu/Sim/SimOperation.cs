namespace GpuMux.Gpu.Sim;

/// <summary>Which part of the simulated device carries out an operation. Engines run side by side.</summary>
internal enum SimEngine
{
    /// <summary>Stream bookkeeping (event records and waits), retired by the scheduler itself.</summary>
    Control,

    /// <summary>The host-to-device copy engine.</summary>
    CopyIn,

    /// <summary>The device-to-host copy engine.</summary>
    CopyOut,

    /// <summary>The multiprocessors: kernels, memsets and device-to-device copies.</summary>
    Compute,

    /// <summary>The host thread that runs host functions one at a time, as the driver's does.</summary>
    Host,
}

/// <summary>One piece of queued work on a simulated stream. Its state is guarded by the scheduler's lock.</summary>
internal abstract class SimOperation(SimStream stream)
{
    public SimStream Stream { get; } = stream;

    public long Sequence { get; set; }

    public bool Started { get; set; }

    public bool Completed { get; set; }

    /// <summary>When the host queued it, in <see cref="SimClock"/> ticks: the earliest the device can start it.</summary>
    public long EnqueuedAt { get; set; }

    /// <summary>
    /// When it ended on the modelled device timeline, in <see cref="SimClock"/> ticks: what an event
    /// recorded behind it reads. The host sees it complete at this time or later, never earlier.
    /// </summary>
    public long CompletedAt { get; set; }

    public abstract SimEngine Engine { get; }

    /// <summary>
    /// Does the operation's real work on real data and returns how long the modelled device
    /// takes for it, in <see cref="SimClock"/> ticks. A fault is thrown as a <see cref="GpuException"/>.
    /// </summary>
    public abstract long Execute(SimMemory memory, SimDeviceOptions device);
}

/// <summary>
/// An event's record. Its stream reuses it once it has completed and nothing refers to it: neither
/// the event (which refers to its latest record) nor a wait queued on it.
/// </summary>
internal sealed class SimRecord(SimStream stream) : SimOperation(stream)
{
    public int References { get; set; }

    public override SimEngine Engine => SimEngine.Control;

    public override long Execute(SimMemory memory, SimDeviceOptions device) => 0;
}

/// <summary>Holds its stream until <see cref="Target"/>, the event's record at the time of the wait, completes.</summary>
internal sealed class SimWait(SimStream stream) : SimOperation(stream)
{
    /// <summary>The record waited for; set each time the wait is queued, since its stream reuses it once it has completed.</summary>
    public SimRecord Target { get; set; } = null!;

    public override SimEngine Engine => SimEngine.Control;

    public override long Execute(SimMemory memory, SimDeviceOptions device) => 0;
}

/// <summary>
/// A host function (<c>cuLaunchHostFunc</c>): called on the host engine's thread once the work
/// before it has completed. Its stream reuses it once it has returned.
/// </summary>
internal sealed unsafe class SimHostFunction(SimStream stream) : SimOperation(stream)
{
    private delegate* unmanaged<nint, void> _function;
    private nint _userData;

    public override SimEngine Engine => SimEngine.Host;

    public void Set(delegate* unmanaged<nint, void> function, nint userData)
    {
        _function = function;
        _userData = userData;
    }

    public override long Execute(SimMemory memory, SimDeviceOptions device)
    {
        _function(_userData);
        return 0;
    }
}
