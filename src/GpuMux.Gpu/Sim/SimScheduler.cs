namespace GpuMux.Gpu.Sim;

/// <summary>
/// The simulated device's front end. Each engine (host-to-device copies, device-to-host copies,
/// compute) is a thread that takes, among the streams whose next operation is for it, the one
/// of highest priority, oldest first within a priority, and runs that operation to completion:
/// priority takes effect at kernel boundaries, as on hardware. Stream order holds because only a
/// stream's head operation may start. Host functions run on a thread of their own, one at a
/// time, and hold their stream until they return, as the driver's do.
/// <para>
/// Times are those of a modelled device timeline, not of when an engine's thread got round to an
/// operation: an operation starts at the latest of when the host queued it, when the operation
/// before it on its stream ended and when its engine's previous operation ended, and ends its
/// modelled duration later; an event's record ends when the work before it on its stream did, or
/// when it was queued on an idle stream, as a GPU timestamps an event when its stream reaches it.
/// An engine takes the operation it could start first, by priority among those it could start at
/// once, so the order is the device's too. Its thread then waits on the host clock until the
/// operation's modelled end has passed before completing it, so nothing completes early for the
/// host; a thread that wakes late makes the host see completions late, but never moves a
/// timestamp. Host functions take the host's own time: one ends when it returns.
/// </para>
/// <para>
/// A fault in a kernel is sticky, as in CUDA: queued work is abandoned and every later call on
/// the context throws the same error until the context is disposed.
/// </para>
/// <para>
/// Disposing the context ends it as a reset ends a GPU's: an operation under way stops waiting
/// out its modelled time (a kernel that would spin for hours ends at once), and nothing queued
/// behind it runs. Once <see cref="Dispose"/> returns, nothing of the context touches memory.
/// </para>
/// </summary>
internal sealed class SimScheduler : IDisposable
{
    private static readonly SimEngine[] Engines = [SimEngine.CopyIn, SimEngine.CopyOut, SimEngine.Compute, SimEngine.Host];

    private readonly object _gate = new();
    private readonly List<SimStream> _streams = [];
    private readonly SimMemory _memory;
    private readonly SimDeviceOptions _device;
    private readonly Thread[] _threads;
    private readonly long[] _engineFreeAt = new long[Enum.GetValues<SimEngine>().Length];
    private readonly bool[] _engineAsleep = new bool[Engines.Length];
    private readonly AutoResetEvent[] _engineWakes = Array.ConvertAll(Engines, _ => new AutoResetEvent(initialState: false));
    private long _sequence;
    private readonly ManualResetEventSlim _stopped = new(initialState: false);
    private GpuException? _fault;
    private bool _stopping;

    public SimScheduler(SimMemory memory, SimDeviceOptions device, int ordinal)
    {
        _memory = memory;
        _device = device;
        _threads = Array.ConvertAll(Engines, engine => new Thread(() => RunEngine(engine))
        {
            IsBackground = true,
            Name = $"gpumux-sim{ordinal}-{engine}",
        });
        foreach (var thread in _threads)
        {
            thread.Start();
        }
    }

    public void AddStream(SimStream stream)
    {
        lock (_gate)
        {
            _streams.Add(stream);
        }
    }

    /// <summary>A destroyed stream finishes its queued work, then goes, as <c>cuStreamDestroy</c> allows.</summary>
    public void RemoveStream(SimStream stream)
    {
        lock (_gate)
        {
            stream.Destroyed = true;
            RetireControlOperations();
            WakeEngines();
        }
    }

    public void ThrowIfFaulted()
    {
        lock (_gate)
        {
            ThrowIfFaultedLocked();
        }
    }

    public void Enqueue(SimOperation operation)
    {
        lock (_gate)
        {
            ThrowIfFaultedLocked();
            EnqueueLocked(operation);
        }
    }

    /// <summary>Queues a launch, reusing one of the stream's completed launches: a step's launch allocates nothing.</summary>
    public void Launch(SimStream stream, SimKernel kernel, ReadOnlySpan<KernelArgument> arguments)
    {
        lock (_gate)
        {
            ThrowIfFaultedLocked();
            var launch = stream.FreeLaunches.TryPop(out var free) ? free : new SimLaunch(stream);
            launch.Set(kernel, arguments);
            EnqueueLocked(launch);
        }
    }

    /// <summary>Queues a host function, reusing one of the stream's that have returned: a step's completion signal allocates nothing.</summary>
    public unsafe void LaunchHostFunction(SimStream stream, delegate* unmanaged<nint, void> function, nint userData)
    {
        lock (_gate)
        {
            ThrowIfFaultedLocked();
            var call = stream.FreeHostFunctions.TryPop(out var free) ? free : new SimHostFunction(stream);
            call.Set(function, userData);
            EnqueueLocked(call);
        }
    }

    /// <summary>
    /// Queues an event's new record, which the event refers to from now on in place of
    /// <paramref name="previous"/>; the record is one of the stream's that nothing refers to any
    /// longer where there is one.
    /// </summary>
    public SimRecord Record(SimStream stream, SimRecord? previous)
    {
        lock (_gate)
        {
            ThrowIfFaultedLocked();
            var record = stream.FreeRecords.TryPop(out var free) ? free : new SimRecord(stream);
            record.References = 1;
            if (previous is not null)
            {
                Release(previous);
            }
            EnqueueLocked(record);
            return record;
        }
    }

    /// <summary>Queues a wait on <paramref name="target"/>, which stays out of reuse until the wait completes.</summary>
    public void Wait(SimStream stream, SimRecord target)
    {
        lock (_gate)
        {
            ThrowIfFaultedLocked();
            target.References++;
            var wait = stream.FreeWaits.TryPop(out var free) ? free : new SimWait(stream);
            wait.Target = target;
            EnqueueLocked(wait);
        }
    }

    public bool IsIdle(SimStream stream)
    {
        lock (_gate)
        {
            ThrowIfFaultedLocked();
            return stream.Queue.Count == 0;
        }
    }

    public void WaitIdle(SimStream? stream)
    {
        lock (_gate)
        {
            while (_fault is null && (stream is null ? _streams.Exists(s => s.Queue.Count > 0) : stream.Queue.Count > 0))
            {
                Monitor.Wait(_gate);
            }
            ThrowIfFaultedLocked();
        }
    }

    public bool IsComplete(SimRecord? record)
    {
        lock (_gate)
        {
            ThrowIfFaultedLocked();
            return record is null || record.Completed;
        }
    }

    public void WaitComplete(SimRecord? record)
    {
        lock (_gate)
        {
            while (_fault is null && record is { Completed: false })
            {
                Monitor.Wait(_gate);
            }
            ThrowIfFaultedLocked();
        }
    }

    public void Dispose()
    {
        lock (_gate)
        {
            _stopping = true;
            Monitor.PulseAll(_gate);
        }
        _stopped.Set();
        foreach (var wake in _engineWakes)
        {
            wake.Set();
        }
        foreach (var thread in _threads)
        {
            thread.Join();
        }
        _stopped.Dispose();
        foreach (var wake in _engineWakes)
        {
            wake.Dispose();
        }
    }

    private void RunEngine(SimEngine engine)
    {
        var slot = Array.IndexOf(Engines, engine);
        while (true)
        {
            SimOperation? operation;
            long start = 0;
            lock (_gate)
            {
                if (_stopping)
                {
                    return;
                }
                operation = NextFor(engine);
                if (operation is null)
                {
                    _engineAsleep[slot] = true;
                }
                else
                {
                    operation.Started = true;
                    start = StartOf(operation);
                }
            }
            if (operation is null)
            {
                _engineWakes[slot].WaitOne();
                continue;
            }

            GpuException? fault = null;
            long duration = 0;
            _memory.BeginAccess();
            try
            {
                duration = operation.Execute(_memory, _device);
            }
            catch (GpuException e)
            {
                fault = e;
            }
            catch (Exception e)
            {
                // A kernel body that throws anything else (an overflow, a bug) faults the context as a
                // GPU's trap would, rather than ending this thread and with it the process.
                fault = new GpuException(GpuStatus.KernelFault, $"the device faulted: {e.GetType().Name}: {e.Message}");
            }
            finally
            {
                _memory.EndAccess();
            }
            var end = engine == SimEngine.Host ? Math.Max(start, SimClock.Now) : start + duration;
            if (fault is null)
            {
                WaitOut(end);
            }

            lock (_gate)
            {
                if (fault is not null)
                {
                    Fail(fault);
                }
                else if (_fault is null && !_stopping)
                {
                    Complete(operation.Stream.Queue.Dequeue(), end);
                    RetireControlOperations();
                    WakeEngines();
                }
                Monitor.PulseAll(_gate);
            }
        }
    }

    /// <summary>Waits until <paramref name="deadline"/>, the end of an operation's modelled time, or until the context is disposed.</summary>
    private void WaitOut(long deadline)
    {
        // The bulk on an event that disposal sets, apart from the gate so that the engines' and the
        // caller's traffic on it does not wake the wait; the last stretch on the clock, which waits
        // more precisely than a timed wait.
        var precise = SimClock.Ticks(TimeSpan.FromMilliseconds(2));
        long remaining;
        while ((remaining = deadline - SimClock.Now) > precise)
        {
            if (_stopped.Wait(TimeSpan.FromMilliseconds(Math.Min(SimClock.Milliseconds(remaining - precise), int.MaxValue - 1))))
            {
                return;
            }
        }
        SimClock.WaitUntil(deadline);
    }

    private void EnqueueLocked(SimOperation operation)
    {
        operation.Started = false;
        operation.Completed = false;
        operation.Sequence = ++_sequence;
        operation.EnqueuedAt = SimClock.Now;
        operation.Stream.Queue.Enqueue(operation);
        RetireControlOperations();
        WakeEngines();
        Monitor.PulseAll(_gate);
    }

    /// <summary>
    /// Wakes each engine that sleeps and now has work. Only those: on a host of few cores, engine
    /// threads woken for nothing at every event record took the processor from the thread that
    /// queues a step, between its first mark and its first op. The callers' own waits are on the gate.
    /// </summary>
    private void WakeEngines()
    {
        for (var i = 0; i < Engines.Length; i++)
        {
            if (_engineAsleep[i] && NextFor(Engines[i]) is not null)
            {
                _engineAsleep[i] = false;
                _engineWakes[i].Set();
            }
        }
    }

    private SimOperation? NextFor(SimEngine engine)
    {
        if (_fault is not null || _stopping)
        {
            return null;
        }
        // Every head was queued, and everything before it ended, by now on the host clock, so
        // none that the host queues later could have started on the device before these.
        SimOperation? best = null;
        long bestStart = 0;
        foreach (var stream in _streams)
        {
            if (stream.Queue.TryPeek(out var head) && head.Engine == engine && !head.Started)
            {
                var start = StartOf(head);
                if (best is null || start < bestStart
                    || (start == bestStart && (stream.Priority < best.Stream.Priority
                        || (stream.Priority == best.Stream.Priority && head.Sequence < best.Sequence))))
                {
                    best = head;
                    bestStart = start;
                }
            }
        }
        return best;
    }

    /// <summary>When <paramref name="operation"/>, at the head of its stream, starts on the modelled timeline.</summary>
    private long StartOf(SimOperation operation) => Math.Max(ReadyAt(operation), _engineFreeAt[(int)operation.Engine]);

    /// <summary>When the device could start <paramref name="operation"/> as far as its stream and the event it waits for go.</summary>
    private static long ReadyAt(SimOperation operation)
    {
        var ready = Math.Max(operation.EnqueuedAt, operation.Stream.FreeAt);
        return operation is SimWait wait ? Math.Max(ready, wait.Target.CompletedAt) : ready;
    }

    /// <summary>
    /// Retires records and satisfied waits at the heads of streams, repeating until nothing
    /// moves, since a record completing on one stream can release a wait on another.
    /// </summary>
    private void RetireControlOperations()
    {
        bool progressed;
        do
        {
            progressed = false;
            foreach (var stream in _streams)
            {
                while (stream.Queue.TryPeek(out var head) && head.Engine == SimEngine.Control)
                {
                    if (head is SimWait { Target.Completed: false })
                    {
                        break;
                    }
                    var operation = stream.Queue.Dequeue();
                    Complete(operation, ReadyAt(operation));
                    progressed = true;
                }
            }
        }
        while (progressed);
        _streams.RemoveAll(s => s.Destroyed && s.Queue.Count == 0);
    }

    /// <summary>Completes <paramref name="operation"/>, which ended at <paramref name="end"/> on the modelled timeline.</summary>
    private void Complete(SimOperation operation, long end)
    {
        operation.Completed = true;
        operation.CompletedAt = end;
        operation.Stream.FreeAt = end;
        _engineFreeAt[(int)operation.Engine] = Math.Max(_engineFreeAt[(int)operation.Engine], end);
        switch (operation)
        {
            case SimLaunch launch:
                launch.Stream.FreeLaunches.Push(launch);
                break;
            case SimHostFunction call:
                call.Stream.FreeHostFunctions.Push(call);
                break;
            case SimRecord { References: 0 } record:
                record.Stream.FreeRecords.Push(record);
                break;
            case SimWait wait:
                Release(wait.Target);
                wait.Stream.FreeWaits.Push(wait);
                break;
        }
    }

    private static void Release(SimRecord record)
    {
        if (--record.References == 0 && record.Completed)
        {
            record.Stream.FreeRecords.Push(record);
        }
    }

    /// <summary>
    /// Poisons the context. Another engine may still be running an operation of its own; it finds
    /// the queues cleared when it finishes and drops the operation, as a real context drops work.
    /// </summary>
    private void Fail(GpuException fault)
    {
        if (_fault is not null)
        {
            return;
        }

        _fault = new GpuException(fault.Status, $"{fault.Message} (the context is now unusable, as after a sticky CUDA error)");
        foreach (var stream in _streams)
        {
            stream.Queue.Clear();
        }
    }

    private void ThrowIfFaultedLocked()
    {
        if (_fault is not null)
        {
            throw new GpuException(_fault.Status, _fault.Message);
        }
    }
}
