using GpuMux.Engine.Device;
using GpuMux.Engine.Execution;
using GpuMux.Engine.Memory;
using GpuMux.Engine.Metrics;
using GpuMux.Engine.Models;

namespace GpuMux.Engine.Sessions;

/// <summary>
/// Spills spillable buffers to pinned host memory when the device pool needs room, and restores
/// them before a step that names them. Runs on the engine thread.
/// <para>
/// A buffer is a victim only while no step on the device names it, nor the step being started
/// (<see cref="Protected"/>): a step still waiting to start gets its buffers back when it does,
/// as a model waiting steps want is swapped in again. Buffers no waiting step names go first,
/// the least recently used first among them; otherwise steps of several sessions, each waiting
/// with caches that together pass the pool, would wait for each other for ever. A spill copies the buffer's bytes device to host on
/// the copy stream, behind the last work queued on the buffer (its zeroing on the session's
/// stream, or its last restore; see <see cref="DeviceBuffer.CopyEvent"/>), into a slice of
/// the pinned staging pool, waits for that copy, and only then unmaps the range, which stays
/// reserved, so the address steps were given holds. No slice, no spill: nothing is ever lost.
/// The engine thread waits for the spill's copy (behind any swap-in still on the copy stream),
/// which keeps the pool's accounting simple at the cost of that wait.
/// </para>
/// <para>
/// A restore maps the range again, making room as a model's swap-in does, queues the host to
/// device copy on the copy stream ahead of the swap-in of the step's model, and makes the
/// session's stream wait for it, so the step's first op starts once its buffers are back while
/// the weights still land behind them. The host slice goes back to the pool once that copy has
/// completed. Both copies are charged to the buffer's tenant as swap traffic; a spilled buffer
/// still counts against its tenant's device bytes, so spilling never lets a tenant hold more.
/// </para>
/// </summary>
internal sealed class BufferSpills(IReadOnlyList<SessionState> sessions, EngineMetrics metrics)
{
    private readonly List<(DeviceBuffer Buffer, SessionState Session, bool Wanted)> _victims = [];

    /// <summary>The step being started, whose buffers are not victims even before it is queued anywhere.</summary>
    public Step? Protected { get; set; }

    public int SpilledBuffers { get; private set; }

    public ulong SpilledBytes { get; private set; }

    public long Spills { get; private set; }

    public ulong SpillBytesTotal { get; private set; }

    public long Restores { get; private set; }

    public ulong RestoreBytesTotal { get; private set; }

    public BufferSpillStatus Snapshot() => new(SpilledBuffers, SpilledBytes, Spills, SpillBytesTotal, Restores, RestoreBytesTotal);

    /// <summary>
    /// What spilling idle spillable buffers would give back to the pool, as far as the pinned
    /// pool's free bytes go (a victim it has no room for stays); 0 without a pinned pool.
    /// </summary>
    public ulong IdleBytes(PinnedStagingPool? pinned)
    {
        if (pinned is null)
        {
            return 0;
        }
        FindVictims();
        var hostLeft = pinned.FreeBytes;
        ulong bytes = 0;
        foreach (var (buffer, _, _) in _victims)
        {
            if (buffer.Length <= hostLeft)
            {
                hostLeft -= buffer.Length;
                bytes += buffer.Range!.MappedBytes;
            }
        }
        _victims.Clear();
        return bytes;
    }

    /// <summary>Spills idle buffers, least recently used first, until the pool has <paramref name="needed"/> bytes free; false if it could not.</summary>
    public bool TrySpill(ulong needed, DeviceContext device, PinnedStagingPool? pinned)
    {
        if (pinned is null)
        {
            return device.Pool.FreeBytes >= needed;
        }
        FindVictims();
        _victims.Sort(static (a, b) => CompareVictims(a.Buffer, a.Wanted, b.Buffer, b.Wanted));
        foreach (var (buffer, session, _) in _victims)
        {
            if (device.Pool.FreeBytes >= needed)
            {
                break;
            }
            Spill(buffer, session, device, pinned);
        }
        _victims.Clear();
        return device.Pool.FreeBytes >= needed;
    }

    /// <summary>Buffers no waiting step names first, then the least recently used; the handle settles ties, so that the order does not depend on the sort's.</summary>
    private static int CompareVictims(DeviceBuffer a, bool aWanted, DeviceBuffer b, bool bWanted) =>
        aWanted != bWanted ? aWanted.CompareTo(bWanted)
        : a.LastUsedNs != b.LastUsedNs ? a.LastUsedNs.CompareTo(b.LastUsedNs)
        : a.Handle.CompareTo(b.Handle);

    /// <summary>
    /// Brings back the spilled buffers <paramref name="step"/> names, making room through
    /// <paramref name="room"/> (sparing <paramref name="model"/>, the step's) where the pool is
    /// full, or through nothing when null, and notes them all as used now. Not
    /// <see cref="ResidencyOutcome.Ready"/> when there is no room: the step waits while memory may
    /// come back (<paramref name="stepsOnDevice"/>, models held resident for now, or room-making
    /// left to a step ahead of it when <paramref name="room"/> is null), and fails otherwise.
    /// </summary>
    public ResidencyOutcome Restore(Step step, SessionState session, DeviceContext device, ModelStore? room, Model? model, bool stepsOnDevice, out string? message)
    {
        message = null;
        if (session.SpillableBuffers == 0)
        {
            // The common case, and every step passes here: none of its buffers can be spilled or ranked.
            return ResidencyOutcome.Ready;
        }
        var now = MonotonicClock.NowNanoseconds();
        foreach (var op in step.Ops)
        {
            if (op.Kind != StepOpKind.Launch)
            {
                if (!TryRestore(op.Buffer, session, device, room, model, now, ref message))
                {
                    return NoRoom(room, model, stepsOnDevice);
                }
                continue;
            }
            foreach (var argument in step.ArgumentsOf(op))
            {
                if (argument.IsBuffer && !TryRestore(argument.Handle, session, device, room, model, now, ref message))
                {
                    return NoRoom(room, model, stepsOnDevice);
                }
            }
        }
        return ResidencyOutcome.Ready;
    }

    private static ResidencyOutcome NoRoom(ModelStore? room, Model? model, bool stepsOnDevice) =>
        room is null || stepsOnDevice || room.HoldsOthersForNow(model) ? ResidencyOutcome.Wait : ResidencyOutcome.Impossible;

    /// <summary>A spilled copy freed with its buffer: its bytes are no longer spilled.</summary>
    internal void Forget(ulong bytes)
    {
        SpilledBuffers--;
        SpilledBytes -= bytes;
        metrics.SpilledBytesChanged(-(long)bytes);
    }

    private bool TryRestore(uint handle, SessionState session, DeviceContext device, ModelStore? room, Model? model, long now, ref string? message)
    {
        if (!session.Buffers.TryGet(handle, out var buffer))
        {
            return true;
        }
        buffer.LastUsedNs = now;
        if (buffer.HostCopy is not { } copy)
        {
            return true;
        }
        var range = buffer.Range!;
        if (!device.Pool.TryMap(range) && !(room is not null && room.TryMakeRoomFor(range.MappedBytes, model, device) && device.Pool.TryMap(range)))
        {
            message = $"buffer {handle} is spilled and needs {range.MappedBytes} bytes of the device pool back; {device.Pool.FreeBytes} of its {device.Pool.BudgetBytes} are free, and evicting every model and spilling every buffer not in use would not make room";
            return false;
        }
        var copies = device.CopyStream.Stream;
        copies.CopyToDevice(range.Start, copy.Slice.Pointer, buffer.Length);
        copies.Record(buffer.CopyEvent!);
        session.StreamOn(device).Stream.Wait(buffer.CopyEvent!);
        device.Releases.Add(device.CopyStream, copy.FreeLater());
        buffer.HostCopy = null;
        Restores++;
        RestoreBytesTotal += buffer.Length;
        session.Tenant.Usage.AddSwap(buffer.Length);
        metrics.BufferCopied(restore: true, buffer.Length);
        return true;
    }

    private void Spill(DeviceBuffer buffer, SessionState session, DeviceContext device, PinnedStagingPool pinned)
    {
        if (pinned.TryAllocate(buffer.Length) is not { } slice)
        {
            return;
        }
        var range = buffer.Range!;
        var copies = device.CopyStream.Stream;
        var copyDone = buffer.CopyEvent!;
        copies.Wait(copyDone);
        copies.CopyToHost(slice.Pointer, range.Start, buffer.Length);
        copies.Record(copyDone);
        copyDone.Synchronize();
        device.Pool.Unmap(range);
        buffer.HostCopy = new SpilledCopy(slice, pinned, this);
        SpilledBuffers++;
        SpilledBytes += slice.Bytes;
        Spills++;
        SpillBytesTotal += buffer.Length;
        session.Tenant.Usage.AddSwap(buffer.Length);
        metrics.BufferCopied(restore: false, buffer.Length);
        metrics.SpilledBytesChanged((long)slice.Bytes);
    }

    /// <summary>Fills the victim list with the mapped spillable buffers no step names.</summary>
    private void FindVictims()
    {
        _victims.Clear();
        foreach (var session in sessions)
        {
            if (session.IsClosed)
            {
                continue;
            }
            foreach (var buffer in session.Buffers.Values)
            {
                if (buffer.Spillable && !buffer.IsSpilled && !buffer.Releasing && buffer.Range is { IsMapped: true } && !IsInUse(session, buffer.Handle))
                {
                    _victims.Add((buffer, session, IsWanted(session, buffer.Handle)));
                }
            }
        }
    }

    /// <summary>Whether a step on the device, or the one being started, names the buffer: then it must stay.</summary>
    private bool IsInUse(SessionState session, uint handle)
    {
        if (Protected is { } starting && starting.Owner?.State == session && Names(starting, handle))
        {
            return true;
        }
        foreach (var step in session.InFlight)
        {
            if (Names(step, handle))
            {
                return true;
            }
        }
        return false;
    }

    /// <summary>Whether a step still waiting to start names the buffer: spilling it only for it to come back is the last resort.</summary>
    private static bool IsWanted(SessionState session, uint handle)
    {
        foreach (var step in session.Held)
        {
            if (Names(step, handle))
            {
                return true;
            }
        }
        foreach (var entry in session.Waiting)
        {
            if (entry.Step is { } step && Names(step, handle))
            {
                return true;
            }
        }
        return false;
    }

    private static bool Names(Step step, uint handle)
    {
        foreach (var op in step.Ops)
        {
            if (op.Kind != StepOpKind.Launch)
            {
                if (op.Buffer == handle)
                {
                    return true;
                }
                continue;
            }
            foreach (var argument in step.ArgumentsOf(op))
            {
                if (argument.IsBuffer && argument.Handle == handle)
                {
                    return true;
                }
            }
        }
        return false;
    }
}
