using GpuMux.Engine.Device;
using GpuMux.Engine.Memory;
using GpuMux.Engine.Metrics;
using GpuMux.Engine.Scheduling;
using GpuMux.Engine.Sessions;
using GpuMux.Engine.Threading;
using GpuMux.Gpu;
using Microsoft.Extensions.Logging;

namespace GpuMux.Engine.Models;

/// <summary>What <see cref="ModelStore.MakeResident"/> could do for a step.</summary>
internal enum ResidencyOutcome : byte
{
    /// <summary>The model is mapped and its swap-in queued (or under way): the step may be issued.</summary>
    Ready,

    /// <summary>Room will be made once steps on the device are done: the step waits its turn.</summary>
    Wait,

    /// <summary>No room can be made: what the pool holds beyond evictable models is more than the model can share.</summary>
    Impossible,
}

/// <summary>
/// Every session's models, and the device memory they share with buffers: staging at
/// registration (pinned pool or File tier), residency (mapping a model's range in the device
/// pool and queuing its swap-in), eviction (unmapping, never copying back: the staged copy is
/// the truth), and the swap-ins themselves. Runs on the engine thread.
/// <para>
/// A swap-in copies the model's data front to back on the device's copy stream in chunks of at
/// most <see cref="EngineOptions.SwapChunkBytes"/>, recording a layer group's event after the
/// group's last chunk: a launch waits only for the groups of the tensors it is given, so compute
/// on the first layers overlaps the transfer of the rest. Timing events around the whole give
/// the swap-in's rate.
/// </para>
/// <para>
/// Victims: never a model with steps on the device, or with copies of its swap-in still
/// landing. Among the others, models no waiting step is bound to go first, then those that
/// waiting steps are bound to (they would only be swapped in again, but a step at the head of
/// the queue must not wait for one behind it). Models no step wants go in the order of their next
/// use, furthest first (<see cref="NextUse"/>); wanted ones take turns, the one whose client is
/// furthest ahead of its deadlines going first (<see cref="Model.LastDeadlineNs"/>), and under
/// the Step policy one still within its turn (<see cref="Model.TurnLeftNs"/>) is not a victim
/// at all. When that is not enough and models with steps on the device would make up the
/// difference, the step waits: those models are claimed, steps newly bound to them wait too, so
/// that they drain, and the step is retried as steps complete. It waits, too, while models held
/// resident for now (within their turn or request) would make up the difference.
/// </para>
/// <para>
/// Spillable buffers no step names (<see cref="BufferSpills"/>) rank between the two kinds of
/// idle model: after models no step wants, whose eviction costs nothing now and perhaps a
/// swap-in some day, and before models waiting steps are bound to, which would be swapped in
/// again at once, while a spilled buffer costs two copies of its own, usually far smaller, bytes.
/// A prefetch spills nothing.
/// </para>
/// </summary>
internal sealed class ModelStore : IDisposable
{
    private const double SwapRateWeight = 0.25;

    private readonly EngineOptions _options;
    private readonly Action<IEngineWork> _post;
    private readonly ILogger _logger;
    private readonly List<Model> _models = [];
    private readonly List<Model> _landing = [];
    private readonly List<Model> _releasing = [];
    private readonly List<Model> _advanced = [];
    private readonly List<Model> _candidates = [];
    private readonly VictimOrder _victimOrder = new();
    private PinnedStagingPool? _pinned;
    private BounceStreaming? _files;
    private readonly EngineMetrics _metrics;
    private readonly BufferSpills _spills;
    private DeviceContext? _device;

    // Swap-in bandwidth, as recent swap-ins measured it; PCIe Gen4's pinned rate until one has.
    private double _swapBytesPerSecond = 25e9;

    public ModelStore(EngineOptions options, Action<IEngineWork> post, ILogger logger, EngineMetrics metrics, BufferSpills spills)
    {
        _spills = spills;
        _options = options;
        _post = post;
        _logger = logger;
        _metrics = metrics;
    }

    /// <summary>Swap-ins whose copies are not all done, models waiting to be released, or File-tier reads: keep polling.</summary>
    public bool HasDeviceWork => _landing.Count > 0 || _releasing.Count > 0 || (_files?.HasWork ?? false);

    public PinnedStagingPool? Pinned => _pinned;

    /// <summary>A swap-in is still landing on the copy stream: another queued now would wait behind it.</summary>
    public bool IsSwapping => _landing.Count > 0 || (_files?.HasWork ?? false);

    /// <summary>What swapping <paramref name="model"/> in would take at the bandwidth swap-ins have measured.</summary>
    public double SwapTimeNs(Model model) => model.Bytes / _swapBytesPerSecond * 1e9;

    /// <summary>Whether <paramref name="model"/> could be mapped now by evicting only idle models that no step wants.</summary>
    public bool HasRoomSparingWanted(Model model)
    {
        if (model.IsMapped || model.Range is not { } range || _device is not { } device)
        {
            return true;
        }
        var reachable = device.Pool.FreeBytes;
        Candidates(model, busy: false);
        foreach (var candidate in _candidates)
        {
            if (!IsWanted(candidate))
            {
                reachable += candidate.Range!.MappedBytes;
            }
        }
        return reachable >= range.MappedBytes;
    }

    /// <summary>
    /// Whether <paramref name="model"/> could be mapped only by evicting models the policy holds
    /// resident for now (mid-request under the Request policy, within their turn under the Step
    /// policy): its step waits for them rather than being issued. False when it is mapped, when
    /// evicting other models would make room, and when nothing could.
    /// </summary>
    public bool IsKeptOut(Model model)
    {
        if (model.IsMapped || model.Range is not { } range || _device is not { } device)
        {
            return false;
        }
        var (evictable, held) = MappedBytesOfOthers(model);
        var reachable = device.Pool.FreeBytes + evictable + _spills.IdleBytes(_pinned);
        return reachable < range.MappedBytes && reachable + held >= range.MappedBytes;
    }

    /// <summary>What the models other than <paramref name="model"/> have mapped, apart from pinned ones: those the policy holds resident for now, and the rest.</summary>
    private (ulong Evictable, ulong Held) MappedBytesOfOthers(Model model)
    {
        var now = MonotonicClock.NowNanoseconds();
        ulong evictable = 0;
        ulong held = 0;
        foreach (var other in _models)
        {
            if (other == model || other.Pinned || !other.IsMapped || other.Range is not { } mapped)
            {
                continue;
            }
            if (IsHeldResident(other, now))
            {
                held += mapped.MappedBytes;
            }
            else
            {
                evictable += mapped.MappedBytes;
            }
        }
        return (evictable, held);
    }

    /// <summary>
    /// When the first turn of a model held resident for its turn ends by time alone, having gone
    /// unused (see <see cref="IsInTurn"/>): steps kept out, and steps waiting for room, may go
    /// then. long.MaxValue when no model is held so.
    /// </summary>
    public long NextTurnEndNs()
    {
        if (_options.Scheduling.Policy != SchedulingPolicy.Step)
        {
            return long.MaxValue;
        }
        var now = MonotonicClock.NowNanoseconds();
        var at = long.MaxValue;
        foreach (var model in _models)
        {
            if (model.IsMapped && !model.Pinned && IsWanted(model) && IsInTurn(model, now))
            {
                at = Math.Min(at, model.LastActiveNs + (long)TurnIdleNs(model));
            }
        }
        return at;
    }

    /// <summary>Swaps <paramref name="model"/> in ahead of its step, when <see cref="HasRoomSparingWanted"/> said it fits.</summary>
    public void Prefetch(Model model, DeviceContext device)
    {
        var needed = model.Range!.MappedBytes;
        if (TryMakeRoom(needed, model, device, spareQueued: true) && device.Pool.TryMap(model.Range))
        {
            ModelLog.Prefetching(_logger, model.Name, model.Owner.Session.Id);
            StartSwap(model, device);
        }
    }

    /// <summary>Sets up the pinned pool and the bounce ring on the first device: they outlive any context.</summary>
    public void Start(DeviceContext device)
    {
        if (_options.PinnedPoolBytes != 0)
        {
            _pinned = new PinnedStagingPool(device.Context, _options.PinnedPoolBytes);
        }
        try
        {
            var ring = new BounceRing(device.Context, _options.BounceBuffers, _options.BounceBufferBytes);
            _files = new BounceStreaming(ring, _options.SwapChunkBytes, _post, _advanced.Add, SwapQueued);
            _files.Attach(device, reattach: false);
        }
        catch
        {
            _pinned?.Dispose();
            throw;
        }
        _device = device;
    }

    /// <summary>
    /// Decides where a model of <paramref name="bytes"/> data bytes is staged: a slice of the
    /// pinned pool if it has room, else its file. Refuses a model the device pool cannot hold.
    /// </summary>
    public (ModelTier Tier, PinnedSlice? Slice) PlanStaging(DeviceContext device, string name, ulong bytes)
    {
        var pool = device.Pool;
        var pages = RoundUp(bytes, pool.PageBytes);
        if (pages > pool.BudgetBytes)
        {
            throw new EngineException(
                EngineError.ModelTooLarge,
                $"model {name} needs {pages} bytes of device memory ({bytes} bytes of weights, in whole pages), more than the whole device pool of {pool.BudgetBytes} bytes");
        }
        if (bytes == 0)
        {
            return (ModelTier.Pinned, null);
        }
        return _pinned?.TryAllocate(bytes) is { } slice ? (ModelTier.Pinned, slice) : (ModelTier.File, null);
    }

    /// <summary>
    /// Reserves the model's range in the device pool and gives it its handle: registered, not
    /// resident. A model kept as a file holds its descriptor from now on, out of the engine's
    /// <see cref="EngineOptions.Descriptors"/>; none left refuses it.
    /// </summary>
    public uint Register(SessionState session, Model model, DeviceContext device)
    {
        var keepsFile = model.File is not null;
        if (keepsFile && !_options.Descriptors.TryTake(1))
        {
            throw new EngineException(
                EngineError.QuotaExceeded,
                $"model {model.Name} does not fit in the pinned staging pool, and the daemon holds as many open files for its clients as its descriptor limit allows ({_options.Descriptors.Capacity}); unregister a model or close a session first");
        }
        try
        {
            return Admit(session, model, device);
        }
        catch
        {
            if (keepsFile)
            {
                _options.Descriptors.Return(1);
            }
            throw;
        }
    }

    private uint Admit(SessionState session, Model model, DeviceContext device)
    {
        var range = model.Bytes == 0 ? null : device.Pool.Reserve(model.Bytes);
        try
        {
            Attach(model, device, range);
            session.AddModel(model);
        }
        catch
        {
            if (range is not null)
            {
                device.Pool.Release(range);
            }
            throw;
        }
        if (_options.Scheduling.Policy == SchedulingPolicy.Dedicated)
        {
            PinResident(session, model, device);
        }
        _models.Add(model);
        ModelLog.Registered(_logger, session.Session.Id, model.Handle, model.Name, model.Layout.TensorCount, model.Bytes, model.Layout.GroupCount, model.Tier);
        return model.Handle;
    }

    /// <summary>
    /// Under the Dedicated policy, a model is mapped and swapped in as it registers and never
    /// leaves; one that does not fit beside the models already there is refused, since it would
    /// need a device of its own.
    /// </summary>
    private void PinResident(SessionState session, Model model, DeviceContext device)
    {
        if (model.Range is { } range && !device.Pool.TryMap(range))
        {
            session.RemoveModel(model.Handle);
            device.Pool.Release(range);
            model.DetachFromDevice();
            throw new EngineException(
                EngineError.OutOfMemory,
                $"the Dedicated policy keeps every model resident, and model {model.Name} ({range.MappedBytes} bytes) does not fit beside those already there: {device.Pool.FreeBytes} bytes of the device pool are free");
        }
        model.Pinned = true;
        if (model.Range is not null)
        {
            StartSwap(model, device);
        }
    }

    /// <summary>Unregisters a model: its memory goes now, or once nothing on the device uses it.</summary>
    public void Remove(Model model)
    {
        _models.Remove(model);
        model.Unregistered = true;
        if (model.IsBusy)
        {
            _releasing.Add(model);
        }
        else
        {
            Release(model);
        }
    }

    /// <summary>
    /// Maps <paramref name="model"/> and queues its swap-in, evicting idle models if the pool has
    /// no room. <paramref name="stepsOnDevice"/> says whether work on the device could free
    /// memory by completing (steps, or releases waiting for work queued before them), which
    /// decides between waiting and giving up.
    /// </summary>
    public ResidencyOutcome MakeResident(Model model, DeviceContext device, bool stepsOnDevice, out string? message)
    {
        message = null;
        if (model.IsMapped)
        {
            if (model.SwapFailure is null)
            {
                return ResidencyOutcome.Ready;
            }
            if (model.IsBusy)
            {
                // A swap-in that failed: its steps are failing; swap it in afresh once they are done.
                return ResidencyOutcome.Wait;
            }
            Evict(model, device);
        }
        if (model.Range is not { } range)
        {
            return ResidencyOutcome.Ready;
        }
        var pool = device.Pool;
        if (!pool.TryMap(range))
        {
            // The range's whole pages: it is mapped all at once or not at all.
            var needed = range.MappedBytes;
            if (!TryMakeRoom(needed, model, device))
            {
                return ClaimOrGiveUp(model, needed, device, stepsOnDevice, out message);
            }
            if (!pool.TryMap(range))
            {
                message = $"the device pool could not map the {needed} bytes of model {model.Name} even with them free";
                return ResidencyOutcome.Impossible;
            }
        }
        StartSwap(model, device);
        return ResidencyOutcome.Ready;
    }

    /// <summary>
    /// Makes <paramref name="needed"/> bytes of the pool free for a step bound to
    /// <paramref name="model"/> (or to none), which is spared, as its buffers are (see
    /// <see cref="BufferSpills.Protected"/>): a spilled buffer's way back.
    /// </summary>
    public bool TryMakeRoomFor(ulong needed, Model? model, DeviceContext device) => TryMakeRoom(needed, model, device);

    /// <summary>Whether models other than <paramref name="model"/> are held resident for now by the policy (not pinned): their memory comes back when their turn or request ends.</summary>
    public bool HoldsOthersForNow(Model? model)
    {
        var now = MonotonicClock.NowNanoseconds();
        return _models.Exists(other => other != model && !other.Pinned && other.IsMapped && other.Range is not null && IsHeldResident(other, now));
    }

    /// <summary>Pages of the device pool for a buffer, evicting idle models and spilling idle buffers to make room; null when even that is not enough.</summary>
    public DeviceRange? AllocateEvicting(DeviceContext device, ulong bytes)
    {
        var pool = device.Pool;
        if (pool.TryAllocate(bytes) is { } range)
        {
            return range;
        }
        return TryMakeRoom(RoundUp(bytes, pool.PageBytes), null, device) ? pool.TryAllocate(bytes) : null;
    }

    /// <summary>Claims are made afresh each time the waiting steps are tried.</summary>
    public void ClearClaims()
    {
        foreach (var model in _models)
        {
            model.Claimed = false;
        }
    }

    /// <summary>Models with more groups queued since the last call, whose suspended steps may go on.</summary>
    public bool TakeAdvanced(List<Model> into)
    {
        if (_advanced.Count == 0)
        {
            return false;
        }
        into.AddRange(_advanced);
        _advanced.Clear();
        return true;
    }

    /// <summary>Notes swap-ins that have landed, frees bounce buffers, releases models nothing uses now; true if anything changed.</summary>
    public bool Poll()
    {
        var changed = _files?.Poll() ?? false;
        for (var i = _landing.Count - 1; i >= 0; i--)
        {
            var model = _landing[i];
            if (!model.SwapEnd!.IsComplete())
            {
                continue;
            }
            _landing.RemoveAt(i);
            model.Landed = true;
            model.LastActiveNs = MonotonicClock.NowNanoseconds();
            changed = true;
            if (model.SwapFailure is null)
            {
                var seconds = GpuEvent.ElapsedMilliseconds(model.SwapStart!, model.SwapEnd) / 1000.0;
                if (seconds > 0)
                {
                    model.AddRate(model.Bytes / seconds);
                    _metrics.SwapLanded(model.Bytes, seconds);
                    _swapBytesPerSecond += SwapRateWeight * ((model.Bytes / seconds) - _swapBytesPerSecond);
                }
            }
            else if (!model.IsBusy && _device is { } device)
            {
                Evict(model, device);
            }
        }
        for (var i = _releasing.Count - 1; i >= 0; i--)
        {
            if (!_releasing[i].IsBusy)
            {
                Release(_releasing[i]);
                _releasing.RemoveAt(i);
                changed = true;
            }
        }
        return changed;
    }

    public void OnChunkRead(BounceStreaming.ChunkRead read) => _files!.Completed(read);

    /// <summary>
    /// Forgets everything on a device that a fault has made useless: no model is resident any
    /// more, swap-ins under way are dropped, models waiting to be released are released.
    /// </summary>
    public void DetachFromDevice()
    {
        _files?.Detach();
        foreach (var model in _models)
        {
            model.DetachFromDevice();
        }
        foreach (var model in _releasing)
        {
            model.DetachFromDevice();
            model.ReleaseHost(_pinned, _options.Descriptors);
        }
        _releasing.Clear();
        _landing.Clear();
        _advanced.Clear();
        _device = null;
    }

    /// <summary>Reserves every model's range again in the new device's pool; each swaps in again on its next use.</summary>
    public void AttachToDevice(DeviceContext device)
    {
        _pinned?.Reattach(device.Context);
        _files?.Attach(device, reattach: true);
        foreach (var model in _models)
        {
            Attach(model, device, model.Bytes == 0 ? null : device.Pool.Reserve(model.Bytes));
        }
        _device = device;
        foreach (var model in _models)
        {
            // Pinned models fitted together before the fault, so they fit again.
            if (model.Pinned && model.Range is { } range && device.Pool.TryMap(range))
            {
                StartSwap(model, device);
            }
        }
    }

    public IEnumerable<ModelStatus> Snapshot()
    {
        var now = MonotonicClock.NowNanoseconds();
        var wallNow = DateTimeOffset.UtcNow;
        foreach (var model in _models)
        {
            var lastUse = model.NextUse.LastUseNs;
            yield return new ModelStatus(
                model.Owner.Session.Id,
                model.Handle,
                model.Name,
                model.OwnerUid,
                model.Bytes,
                model.Layout.TensorCount,
                model.Layout.GroupCount,
                model.Tier,
                model.IsMapped && model.SwapFailure is null,
                lastUse == 0 ? null : wallNow - TimeSpan.FromTicks((now - lastUse) / 100),
                model.SwapCount,
                model.MedianRate(),
                model.Usage.Figures());
        }
    }

    /// <summary>At shutdown, once nothing is on the device: every model's memory, then the pools.</summary>
    public void Dispose()
    {
        foreach (var model in _models.Concat(_releasing).ToArray())
        {
            Release(model);
        }
        _models.Clear();
        _releasing.Clear();
        _files?.Dispose();
        _pinned?.Dispose();
    }

    private static ulong RoundUp(ulong bytes, ulong unit) => (bytes + unit - 1) / unit * unit;

    private static void Attach(Model model, DeviceContext device, DeviceRange? range)
    {
        model.AttachRange(device, range);
        if (range is null)
        {
            // Nothing to copy: the model is as resident as it can be.
            model.Residency = Residency.Resident;
            model.GroupsQueued = model.Layout.GroupCount;
            model.Landed = true;
        }
    }

    private void StartSwap(Model model, DeviceContext device)
    {
        var context = device.Context;
        if (model.GroupEvents is null)
        {
            model.GroupEvents = new GpuEvent[model.Layout.GroupCount];
            for (var g = 0; g < model.GroupEvents.Length; g++)
            {
                model.GroupEvents[g] = context.CreateEvent(enableTiming: false);
            }
            model.SwapStart = context.CreateEvent(enableTiming: true);
            model.SwapEnd = context.CreateEvent(enableTiming: true);
        }
        model.SwapCount++;
        model.TurnLeftNs = SwapTimeNs(model) * _options.Scheduling.SwapAmortization;
        model.LastActiveNs = MonotonicClock.NowNanoseconds();
        model.Usage.AddSwap(model.Bytes);
        model.Owner.Tenant.Usage.AddSwap(model.Bytes);
        model.Residency = Residency.Loading;
        model.GroupsQueued = 0;
        model.Landed = false;
        model.SwapFailure = null;
        if (model.Staged is not { } staged)
        {
            _files!.Start(model);
            return;
        }
        var copies = device.CopyStream.Stream;
        var range = model.Range!;
        var layout = model.Layout;
        copies.Record(model.SwapStart!);
        ulong offset = 0;
        for (var group = 0; group < layout.GroupCount; group++)
        {
            var end = layout.GroupEnd(group);
            while (offset < end)
            {
                var length = Math.Min(_options.SwapChunkBytes, end - offset);
                copies.CopyToDevice(range.Start + offset, staged.Pointer + (nint)offset, length);
                offset += length;
            }
            copies.Record(model.GroupEvents[group]);
        }
        copies.Record(model.SwapEnd!);
        device.CopyStream.WakeAfterQueuedWork();
        model.GroupsQueued = layout.GroupCount;
        model.Residency = Residency.Resident;
        _landing.Add(model);
    }

    /// <summary>
    /// Evicts idle models and spills idle buffers, best victims first, if that makes
    /// <paramref name="needed"/> bytes free; evicts nothing otherwise.
    /// </summary>
    private bool TryMakeRoom(ulong needed, Model? forModel, DeviceContext device, bool spareQueued = false)
    {
        var pool = device.Pool;
        var free = pool.FreeBytes;
        if (free >= needed)
        {
            return true;
        }
        Candidates(forModel, busy: false);
        var take = 0;
        if (spareQueued)
        {
            _candidates.RemoveAll(IsWanted);
        }
        while (take < _candidates.Count && free < needed && !IsWanted(_candidates[take]))
        {
            free += _candidates[take++].Range!.MappedBytes;
        }
        var spill = free < needed && !spareQueued ? _spills.IdleBytes(_pinned) : 0;
        free += spill;
        while (take < _candidates.Count && free < needed)
        {
            free += _candidates[take++].Range!.MappedBytes;
        }
        if (free < needed)
        {
            return false;
        }
        for (var i = 0; i < take; i++)
        {
            Evict(_candidates[i], device);
        }
        return spill == 0 || _spills.TrySpill(needed, device, _pinned);
    }

    private ResidencyOutcome ClaimOrGiveUp(Model model, ulong needed, DeviceContext device, bool stepsOnDevice, out string? message)
    {
        var pool = device.Pool;
        var reachable = pool.FreeBytes;
        ulong idle = 0;
        Candidates(model, busy: false);
        foreach (var candidate in _candidates)
        {
            idle += candidate.Range!.MappedBytes;
        }
        idle += _spills.IdleBytes(_pinned);
        reachable += idle;
        Candidates(model, busy: true);
        var claim = 0;
        while (claim < _candidates.Count && reachable < needed)
        {
            reachable += _candidates[claim++].Range!.MappedBytes;
        }
        if (reachable >= needed)
        {
            for (var i = 0; i < claim; i++)
            {
                _candidates[i].Claimed = true;
            }
            message = null;
            return ResidencyOutcome.Wait;
        }
        if (stepsOnDevice || reachable + MappedBytesOfOthers(model).Held >= needed)
        {
            // Memory may come back as steps complete (buffers freed under them, models
            // unregistered), or as models held resident for now reach the end of their turn or
            // request: a model busy when the step was issued may be held once idle.
            message = null;
            return ResidencyOutcome.Wait;
        }
        message = $"model {model.Name} needs {needed} bytes of the device pool; it has {pool.FreeBytes} free of {pool.BudgetBytes}, and evicting every other model and spilling every spillable buffer not in use would free only {idle} more: buffers hold the rest";
        return ResidencyOutcome.Impossible;
    }

    /// <summary>Fills the candidate list with mapped models other than <paramref name="except"/>, idle or busy, best victims first.</summary>
    private void Candidates(Model? except, bool busy)
    {
        _candidates.Clear();
        var now = MonotonicClock.NowNanoseconds();
        foreach (var model in _models)
        {
            if (model != except && model.IsMapped && model.Range is not null && model.IsBusy == busy && !IsHeldResident(model, now))
            {
                _candidates.Add(model);
            }
        }
        _victimOrder.NowNs = now;
        _candidates.Sort(_victimOrder);
    }

    /// <summary>
    /// Models that steps want take turns: the one whose client is furthest ahead of its deadlines
    /// goes first (one without deadlines before any with), then the one in use least recently.
    /// </summary>
    private static int CompareWanted(Model a, Model b)
    {
        var aAhead = a.LastDeadlineNs == 0 ? long.MaxValue : a.LastDeadlineNs;
        var bAhead = b.LastDeadlineNs == 0 ? long.MaxValue : b.LastDeadlineNs;
        return aAhead != bAhead ? bAhead.CompareTo(aAhead) : a.LastActiveNs.CompareTo(b.LastActiveNs);
    }

    /// <summary>Steps wait for it, or a request on it is under way: evicting it would only bring it back.</summary>
    private static bool IsWanted(Model model) => model.QueuedSteps > 0 || model.InRequest;

    /// <summary>Best victims first: models no step wants, by next use, then wanted ones by <see cref="CompareWanted"/>. One instance, so that sorting allocates nothing.</summary>
    private sealed class VictimOrder : IComparer<Model>
    {
        public long NowNs { get; set; }

        public int Compare(Model? a, Model? b)
        {
            var (aWanted, bWanted) = (IsWanted(a!), IsWanted(b!));
            if (aWanted != bWanted)
            {
                return aWanted.CompareTo(bWanted);
            }
            return aWanted ? CompareWanted(a!, b!) : NextUse.CompareVictims(a!.NextUse, b!.NextUse, NowNs);
        }
    }

    /// <summary>
    /// Neither a victim nor claimable: pinned by the Dedicated policy, mid-request under the Request
    /// policy, or under the Step policy wanted and within its turn.
    /// </summary>
    private bool IsHeldResident(Model model, long nowNs) => _options.Scheduling.Policy switch
    {
        SchedulingPolicy.Request => model.Pinned || model.InRequest,
        SchedulingPolicy.Step => model.Pinned || (IsWanted(model) && IsInTurn(model, nowNs)),
        _ => model.Pinned,
    };

    /// <summary>
    /// A turn lasts until the model's steps have had <see cref="Scheduling.SchedulingOptions.SwapAmortization"/>
    /// times its swap's time on the device, so that a swap is paid for by the compute it brings,
    /// however many other models share the device meanwhile; it ends early when the model goes
    /// unused for that time and its swap's again, as a client that stopped submitting would.
    /// </summary>
    private bool IsInTurn(Model model, long nowNs) => model.TurnLeftNs > 0 && nowNs - model.LastActiveNs < TurnIdleNs(model);

    private double TurnIdleNs(Model model) => SwapTimeNs(model) * (1 + _options.Scheduling.SwapAmortization);

    /// <summary>A swap-in has queued its last copy (or failed): watch for it to land.</summary>
    private void SwapQueued(Model model)
    {
        _landing.Add(model);
        if (model.SwapFailure is { } reason)
        {
            ModelLog.SwapFailed(_logger, model.Name, model.Owner.Session.Id, reason);
        }
    }

    private void Evict(Model model, DeviceContext device)
    {
        ModelLog.Evicted(_logger, model.Name, model.Owner.Session.Id, model.Range!.MappedBytes);
        device.Pool.Unmap(model.Range!);
        model.Residency = Residency.Evicted;
        model.GroupsQueued = 0;
        model.Landed = false;
        model.SwapFailure = null;
    }

    private void Release(Model model)
    {
        if (model.Range is { } range && model.RangeDevice is { IsFaulted: false } device)
        {
            if (model.IsMapped)
            {
                device.Pool.Unmap(range);
            }
            device.Pool.Release(range);
        }
        model.DetachFromDevice();
        model.ReleaseHost(_pinned, _options.Descriptors);
        ModelLog.Released(_logger, model.Name, model.Owner.Session.Id);
    }
}
