namespace GpuMux.Gpu.Sim;

/// <summary>
/// The simulated device's front end. Each engine (host-to-device copies, device-to-host copies,
/// compute) is a thread that takes, among the streams whose next operation is for it, the one
/// of highest priority, oldest first within a priority, and runs that operation to completion:
/// priority takes effect at kernel boundaries, as on hardware. Stream order holds because only a
/// stream's head operation may start. Host functions run on a thread of their own, one at a
/// time, and hold their stream until they return, as the driver's do.
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
        foreach (var thread in _threads)
        {
            thread.Join();
        }
        _stopped.Dispose();
    }

    private void RunEngine(SimEngine engine)
    {
        while (true)
        {
            SimOperation operation;
            lock (_gate)
            {
                SimOperation? next;
                while ((next = NextFor(engine)) is null)
                {
                    if (_stopping)
                    {
                        return;
                    }
                    Monitor.Wait(_gate);
                }
                operation = next;
                operation.Started = true;
            }

            var start = SimClock.Now;
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
            if (fault is null)
            {
                WaitOut(start + duration);
            }

            lock (_gate)
            {
                if (fault is not null)
                {
                    Fail(fault);
                }
                else if (_fault is null && !_stopping)
                {
                    Complete(operation.Stream.Queue.Dequeue());
                    RetireControlOperations();
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
        operation.Stream.Queue.Enqueue(operation);
        RetireControlOperations();
        Monitor.PulseAll(_gate);
    }

    private SimOperation? NextFor(SimEngine engine)
    {
        if (_fault is not null || _stopping)
        {
            return null;
        }
        SimOperation? best = null;
        foreach (var stream in _streams)
        {
            if (stream.Queue.TryPeek(out var head) && head.Engine == engine && !head.Started
                && (best is null || stream.Priority < best.Stream.Priority
                    || (stream.Priority == best.Stream.Priority && head.Sequence < best.Sequence)))
            {
                best = head;
            }
        }
        return best;
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
                    Complete(stream.Queue.Dequeue());
                    progressed = true;
                }
            }
        }
        while (progressed);
        _streams.RemoveAll(s => s.Destroyed && s.Queue.Count == 0);
    }

    private static void Complete(SimOperation operation)
    {
        operation.Completed = true;
        operation.CompletedAt = SimClock.Now;
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
