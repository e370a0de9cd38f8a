using GpuMux.Engine.Device;
using GpuMux.Engine.Memory;
using GpuMux.Engine.Threading;
using GpuMux.Gpu;
using Microsoft.Win32.SafeHandles;

namespace GpuMux.Engine.Models;

/// <summary>
/// Swaps File-tier models in through the ring of pinned bounce buffers, one model at a time, in
/// the order they were asked for. A thread-pool thread reads a chunk of the file into a free
/// buffer; the engine thread, told by a posted work item, queues the buffer's copy on the copy
/// stream (chunks in file order) and records the buffer's event, and the buffer is read into
/// again only once that event has completed. A layer group's event is recorded once its last
/// chunk is queued, which lets the steps waiting for it be issued further. While one buffer is
/// copied the others are being read, so the disk (or the page cache) and the bus work at once.
/// </summary>
internal sealed class BounceStreaming : IDisposable
{
    private readonly BounceRing _ring;
    private readonly Slot[] _slots;
    private readonly Queue<Model> _queue = new();
    private readonly Action<IEngineWork> _post;
    private readonly Action<Model> _groupsQueued;
    private readonly Action<Model> _swapQueued;
    private readonly ulong _chunkBytes;
    private Model? _current;
    private DeviceContext? _device;
    private int _generation;
    private ulong _readOffset;
    private ulong _queueOffset;
    private int _queueGroup;
    private int _readsOutstanding;

    public BounceStreaming(BounceRing ring, ulong swapChunkBytes, Action<IEngineWork> post, Action<Model> groupsQueued, Action<Model> swapQueued)
    {
        _ring = ring;
        _post = post;
        _groupsQueued = groupsQueued;
        _swapQueued = swapQueued;
        // A read fills a span, whose length is an int.
        _chunkBytes = Math.Min(Math.Min(swapChunkBytes, ring.BufferBytes), 1UL << 30);
        _slots = new Slot[ring.Count];
        for (var i = 0; i < _slots.Length; i++)
        {
            _slots[i] = new Slot();
        }
    }

    private enum SlotState : byte
    {
        Free,
        Reading,
        Read,
        Copying,
    }

    /// <summary>Reads under way or copies not yet done: the engine must keep polling, and may not let the ring go.</summary>
    public bool HasWork
    {
        get
        {
            if (_current is not null || _queue.Count > 0 || Volatile.Read(ref _readsOutstanding) > 0)
            {
                return true;
            }
            foreach (var slot in _slots)
            {
                if (slot.State != SlotState.Free)
                {
                    return true;
                }
            }
            return false;
        }
    }

    /// <summary>Makes the buffers' events on <paramref name="device"/>; after a reset, registers the ring with its context first.</summary>
    public void Attach(DeviceContext device, bool reattach)
    {
        _device = device;
        if (reattach)
        {
            _ring.Reattach(device.Context);
        }
        foreach (var slot in _slots)
        {
            slot.Copied = device.Context.CreateEvent(enableTiming: false);
        }
    }

    /// <summary>Forgets the swap-ins under way and queued, after a fault; reads still running come back to a buffer nobody waits for.</summary>
    public void Detach()
    {
        _generation++;
        _current = null;
        _queue.Clear();
        foreach (var slot in _slots)
        {
            slot.Copied?.Dispose();
            slot.Copied = null;
            if (slot.State != SlotState.Reading)
            {
                slot.State = SlotState.Free;
            }
        }
        _device = null;
    }

    /// <summary>Queues a swap-in of <paramref name="model"/>, which is mapped and marked as loading.</summary>
    public void Start(Model model)
    {
        _queue.Enqueue(model);
        if (_current is null)
        {
            Next();
        }
    }

    /// <summary>Frees the buffers whose copies have completed and reads into them; true if any was freed.</summary>
    public bool Poll()
    {
        var freed = false;
        foreach (var slot in _slots)
        {
            if (slot.State == SlotState.Copying && slot.Copied!.IsComplete())
            {
                slot.State = SlotState.Free;
                freed = true;
            }
        }
        if (freed)
        {
            ScheduleReads();
        }
        return freed;
    }

    /// <summary>A read has finished, on the engine thread: queue what can be queued in order, and read on.</summary>
    public void Completed(ChunkRead read)
    {
        var slot = _slots[read.Slot];
        slot.State = SlotState.Free;
        if (read.Generation != _generation || _current is not { } model)
        {
            ScheduleReads();
            return;
        }
        if (read.Error is { } error)
        {
            Fail(model, $"model {model.Name} could not be read from its file at data byte {slot.Offset}: {error}");
            return;
        }
        slot.State = SlotState.Read;
        QueueReadChunks(model);
        ScheduleReads();
    }

    /// <summary>Waits a bounded time for reads into the ring to end, then lets the ring go (unless one never ends).</summary>
    public void Dispose()
    {
        var deadline = Environment.TickCount64 + 10_000;
        while (Volatile.Read(ref _readsOutstanding) > 0 && Environment.TickCount64 < deadline)
        {
            Thread.Sleep(1);
        }
        foreach (var slot in _slots)
        {
            slot.Copied?.Dispose();
        }
        if (Volatile.Read(ref _readsOutstanding) == 0)
        {
            _ring.Dispose();
        }
    }

    private void Next()
    {
        while (_current is null && _queue.TryDequeue(out var model))
        {
            if (model.Residency != Residency.Loading)
            {
                continue;
            }
            _current = model;
            _generation++;
            _readOffset = 0;
            _queueOffset = 0;
            _queueGroup = 0;
            _device!.CopyStream.Stream.Record(model.SwapStart!);
            QueueReadChunks(model);
            ScheduleReads();
        }
    }

    /// <summary>Queues the copies of the buffers read, in file order, with the events of the groups they complete.</summary>
    private void QueueReadChunks(Model model)
    {
        var copies = _device!.CopyStream.Stream;
        var range = model.Range!;
        var advanced = RecordCompletedGroups(model);
        var queued = false;
        for (var i = FindRead(_queueOffset); i >= 0; i = FindRead(_queueOffset))
        {
            queued = true;
            var slot = _slots[i];
            copies.CopyToDevice(range.Start + _queueOffset, _ring[i].Pointer, slot.Length);
            copies.Record(slot.Copied!);
            slot.State = SlotState.Copying;
            _queueOffset += slot.Length;
            advanced |= RecordCompletedGroups(model);
        }
        if (_queueOffset == model.Layout.DataBytes)
        {
            copies.Record(model.SwapEnd!);
            queued = true;
            model.Residency = Residency.Resident;
            _current = null;
            _generation++;
            _swapQueued(model);
        }
        if (queued)
        {
            // The buffers' copies free them for the next reads, and the end lands the model.
            _device.CopyStream.WakeAfterQueuedWork();
        }
        if (advanced)
        {
            _groupsQueued(model);
        }
        if (_current is null)
        {
            Next();
        }
    }

    private bool RecordCompletedGroups(Model model)
    {
        var advanced = false;
        var layout = model.Layout;
        while (_queueGroup < layout.GroupCount && layout.GroupEnd(_queueGroup) <= _queueOffset)
        {
            _device!.CopyStream.Stream.Record(model.GroupEvents![_queueGroup]);
            _queueGroup++;
            model.GroupsQueued = _queueGroup;
            advanced = true;
        }
        return advanced;
    }

    private int FindRead(ulong offset)
    {
        for (var i = 0; i < _slots.Length; i++)
        {
            if (_slots[i].State == SlotState.Read && _slots[i].Offset == offset)
            {
                return i;
            }
        }
        return -1;
    }

    /// <summary>Starts reads of the next chunks into the free buffers; a chunk never runs past the end of its group.</summary>
    private void ScheduleReads()
    {
        if (_current is not { File: { } file } model)
        {
            return;
        }
        var layout = model.Layout;
        for (var i = 0; i < _slots.Length && _readOffset < layout.DataBytes; i++)
        {
            var slot = _slots[i];
            if (slot.State != SlotState.Free)
            {
                continue;
            }
            var end = Math.Min(_readOffset + _chunkBytes, GroupEndAfter(layout, _readOffset));
            slot.State = SlotState.Reading;
            slot.Offset = _readOffset;
            slot.Length = end - _readOffset;
            _readOffset = end;
            Interlocked.Increment(ref _readsOutstanding);
            ThreadPool.UnsafeQueueUserWorkItem(
                new ChunkRead(this, _generation, i, file, layout.DataOffset + slot.Offset, _ring[i], (int)slot.Length),
                preferLocal: false);
        }
    }

    private static ulong GroupEndAfter(ModelLayout layout, ulong offset)
    {
        for (var group = 0; group < layout.GroupCount; group++)
        {
            if (layout.GroupEnd(group) > offset)
            {
                return layout.GroupEnd(group);
            }
        }
        return layout.DataBytes;
    }

    /// <summary>
    /// Ends a swap-in whose file could not be read: the copies already queued run out, the steps
    /// waiting for the rest fail, and the model's memory is thrown away once they are done.
    /// </summary>
    private void Fail(Model model, string message)
    {
        model.SwapFailure = message;
        _device!.CopyStream.Stream.Record(model.SwapEnd!);
        _device.CopyStream.WakeAfterQueuedWork();
        foreach (var slot in _slots)
        {
            if (slot.State == SlotState.Read)
            {
                slot.State = SlotState.Free;
            }
        }
        _current = null;
        _generation++;
        _swapQueued(model);
        _groupsQueued(model);
        Next();
    }

    private void ReadFinished() => Interlocked.Decrement(ref _readsOutstanding);

    private sealed class Slot
    {
        public SlotState State { get; set; }

        public ulong Offset { get; set; }

        public ulong Length { get; set; }

        public GpuEvent? Copied { get; set; }
    }

    /// <summary>A chunk read on a thread-pool thread, then posted to the engine thread with its outcome.</summary>
    internal sealed class ChunkRead(BounceStreaming owner, int generation, int slot, SafeFileHandle file, ulong fileOffset, PinnedSlice buffer, int length)
        : IThreadPoolWorkItem, IEngineWork
    {
        public BounceStreaming Owner { get; } = owner;

        public int Generation { get; } = generation;

        public int Slot { get; } = slot;

        public string? Error { get; private set; }

        void IThreadPoolWorkItem.Execute()
        {
            try
            {
                ModelFiles.ReadExactly(file, buffer.AsSpan(0, length), fileOffset);
            }
            catch (Exception e) when (e is EndOfStreamException || ModelFiles.IsReadFailure(e))
            {
                Error = e.Message;
            }
            finally
            {
                Owner.ReadFinished();
            }
            Owner._post(this);
        }

        void IEngineWork.Execute(EngineRuntime runtime) => runtime.OnChunkRead(this);

        void IEngineWork.Abandon()
        {
        }
    }
}
