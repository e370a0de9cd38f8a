using GpuMux.Engine.Device;
using GpuMux.Engine.Memory;
using GpuMux.Engine.Sessions;
using GpuMux.Engine.Tenants;
using GpuMux.Gpu;
using Microsoft.Win32.SafeHandles;

namespace GpuMux.Engine.Models;

/// <summary>Where a model's weights are on the device.</summary>
internal enum Residency : byte
{
    /// <summary>Only the model's virtual range is reserved; nothing is mapped.</summary>
    Evicted,

    /// <summary>Mapped; the swap-in's copies are being queued as a file is read (File tier).</summary>
    Loading,

    /// <summary>Mapped, and every copy of the swap-in is queued: the group events tell what has landed.</summary>
    Resident,
}

/// <summary>
/// A registered model: its layout, its staged weights (a slice of the pinned pool, or the
/// client's file), its range in the device pool, and what the engine knows of its use. Touched
/// only by the engine thread once registered. Its tensors' handles are
/// <see cref="FirstTensor"/> onward, in file order, unique within the session, so that a tensor
/// of another model is told apart from no tensor at all.
/// </summary>
internal sealed class Model
{
    // Recent swap-ins' rates, for the median the status reports.
    private const int RateSamples = 16;

    private readonly double[] _rates = new double[RateSamples];
    private int _rateCount;
    private int _rateNext;
    private NextUse _nextUse;

    public Model(SessionState owner, string name, ModelLayout layout, ModelTier tier, PinnedSlice? staged, SafeFileHandle? file)
    {
        Owner = owner;
        Name = name;
        Layout = layout;
        Tier = tier;
        Staged = staged;
        File = file;
    }

    public SessionState Owner { get; }

    public uint OwnerUid => Owner.Session.Identity.Uid;

    public string Name { get; }

    public ModelLayout Layout { get; }

    public ModelTier Tier { get; }

    /// <summary>The weights in pinned memory (Pinned tier); null for the File tier and for a model with no data.</summary>
    public PinnedSlice? Staged { get; private set; }

    /// <summary>The client's file, read at each swap-in (File tier).</summary>
    public SafeFileHandle? File { get; private set; }

    public uint Handle { get; set; }

    public uint FirstTensor { get; set; }

    public ulong Bytes => Layout.DataBytes;

    /// <summary>The model's virtual range in the device pool of <see cref="RangeDevice"/>; null when it has no data or no device.</summary>
    public DeviceRange? Range { get; private set; }

    public DeviceContext? RangeDevice { get; private set; }

    public Residency Residency { get; set; }

    /// <summary>Layer groups whose copies are queued in the current swap-in, and whose events may be waited on.</summary>
    public int GroupsQueued { get; set; }

    /// <summary>Recorded on the copy stream after each group's last chunk; made on first swap-in, per context.</summary>
    public GpuEvent[]? GroupEvents { get; set; }

    public GpuEvent? SwapStart { get; set; }

    public GpuEvent? SwapEnd { get; set; }

    /// <summary>Every copy of the current swap-in has completed, so launches need wait for nothing.</summary>
    public bool Landed { get; set; }

    /// <summary>Why the current swap-in could not finish (its file could not be read); its data is thrown away once idle.</summary>
    public string? SwapFailure { get; set; }

    /// <summary>Steps issued with the model and not completed: it stays on the device until they are done.</summary>
    public int InFlightSteps { get; set; }

    /// <summary>Steps waiting to start that are bound to the model, which it is kept on the device for when possible.</summary>
    public int QueuedSteps { get; set; }

    /// <summary>A step waiting for room means to evict the model once its steps are done: new steps bound to it wait too.</summary>
    public bool Claimed { get; set; }

    /// <summary>Unregistered once the steps queued before the request have started; the handle is gone for requests.</summary>
    public bool Releasing { get; set; }

    /// <summary>Unregistered, or its session closed: released once nothing on the device uses it.</summary>
    public bool Unregistered { get; set; }

    /// <summary>Steps issued in part, waiting for more of the model's groups to be queued.</summary>
    public List<Step> Suspended { get; } = [];

    public long SwapCount { get; set; }

    /// <summary>Under the Dedicated policy: made resident at registration, never evicted.</summary>
    public bool Pinned { get; set; }

    /// <summary>A request's first step has been issued and its last has not completed: under the Request policy it stays, under the Step policy it is a victim of last resort.</summary>
    public bool InRequest { get; set; }

    /// <summary>
    /// Under the Step policy, the device time its steps may still take in the turn its last
    /// swap-in began: <see cref="Scheduling.SchedulingOptions.SwapAmortization"/> times that
    /// swap's time. While some is left, and it is in use, it keeps its place while steps want it.
    /// </summary>
    public double TurnLeftNs { get; set; }

    /// <summary>The host's monotonic clock, in nanoseconds, when a step of it was last issued or completed, or its swap-in landed.</summary>
    public long LastActiveNs { get; set; }

    /// <summary>
    /// The deadline of the step last bound to the model, 0 for none: how far ahead of its
    /// deadlines its client runs. Of two models that steps want, the one further ahead can be
    /// out longer before it is due again.
    /// </summary>
    public long LastDeadlineNs { get; set; }

    public UsageAccount Usage { get; } = new();

    public ref NextUse NextUse => ref _nextUse;

    /// <summary>On the device, or on its way: mapped, with copies queued or being queued.</summary>
    public bool IsMapped => Residency != Residency.Evicted;

    /// <summary>Something on the device may still read or write the model's memory, so it may not be unmapped.</summary>
    public bool IsBusy => InFlightSteps > 0 || (IsMapped && !Landed);

    public void AttachRange(DeviceContext device, DeviceRange? range)
    {
        RangeDevice = device;
        Range = range;
        Residency = Residency.Evicted;
        GroupsQueued = 0;
        Landed = false;
        SwapFailure = null;
    }

    /// <summary>Forgets everything on a device that a fault has made useless; the events go with it.</summary>
    public void DetachFromDevice()
    {
        DisposeEvents();
        Range = null;
        RangeDevice = null;
        Residency = Residency.Evicted;
        GroupsQueued = 0;
        Landed = false;
        SwapFailure = null;
        InFlightSteps = 0;
        Claimed = false;
        Suspended.Clear();
    }

    public void AddRate(double bytesPerSecond)
    {
        _rates[_rateNext] = bytesPerSecond;
        _rateNext = (_rateNext + 1) % RateSamples;
        _rateCount = Math.Min(_rateCount + 1, RateSamples);
    }

    public double? MedianRate()
    {
        if (_rateCount == 0)
        {
            return null;
        }
        var sorted = _rates[.._rateCount];
        Array.Sort(sorted);
        return _rateCount % 2 == 1 ? sorted[_rateCount / 2] : (sorted[(_rateCount / 2) - 1] + sorted[_rateCount / 2]) / 2;
    }

    /// <summary>Lets go of the host side (the pinned slice, the file and its descriptor); the device side is released by the store first.</summary>
    public void ReleaseHost(PinnedStagingPool? pinned, DescriptorBudget descriptors)
    {
        DisposeEvents();
        if (Staged is { } slice)
        {
            pinned?.Free(slice);
            Staged = null;
        }
        if (File is { } file)
        {
            file.Dispose();
            File = null;
            descriptors.Return(1);
        }
    }

    public void DisposeEvents()
    {
        if (GroupEvents is { } events)
        {
            foreach (var marker in events)
            {
                marker.Dispose();
            }
        }
        SwapStart?.Dispose();
        SwapEnd?.Dispose();
        GroupEvents = null;
        SwapStart = null;
        SwapEnd = null;
    }
}
