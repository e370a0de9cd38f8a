using GpuMux.Engine.Device;
using GpuMux.Engine.Sessions;
using GpuMux.Gpu;
using Microsoft.Extensions.Logging;

namespace GpuMux.Engine.Execution;

/// <summary>
/// Takes steps to the device and their outcomes back to the sessions: validates a step, queues
/// its ops on the session's stream between two timing events, watches the end events, and
/// hands each completion to the session's sink, all on the engine thread.
/// </summary>
internal sealed class StepExecutor(EngineOptions options, ILogger logger)
{
    /// <summary>Sessions with steps on the device; each one's steps complete in order, so only its oldest is watched.</summary>
    private readonly List<SessionState> _busy = [];

    public int InFlight { get; private set; }

    /// <summary>
    /// Validates <paramref name="step"/> and queues it. A <see cref="GpuException"/> that escapes
    /// leaves the device in a state the engine cannot vouch for, so the caller resets it, with
    /// this step among those that may have caused the fault if any of its ops were queued.
    /// </summary>
    public void Dispatch(Step step, SessionState session, DeviceContext device)
    {
        var error = StepValidator.Validate(step, session, options.MaxOpsPerStep, out var message);
        if (error != EngineError.None)
        {
            FailUnrun(step, session, error, message);
            return;
        }
        GpuStream stream;
        try
        {
            stream = session.StreamOn(device.Context);
            step.Timing = device.RentTiming();
        }
        catch (GpuException e) when (!e.IsContextFatal)
        {
            FailUnrun(step, session, EngineError.Internal, $"the step cannot be prepared on the device: {e.Message}");
            return;
        }
        stream.Record(step.Timing.Start);
        Issue(step, session, stream, device.Arguments);
        stream.Record(step.Timing.End);
        step.Sequence = session.Issued(step);
        if (session.InFlight.Count == 1)
        {
            _busy.Add(session);
        }
        InFlight++;
    }

    /// <summary>Delivers every step whose end event has completed; returns how many. A failed event query means a broken context and is left to the caller.</summary>
    public int Poll(DeviceContext device)
    {
        var completed = 0;
        for (var i = _busy.Count - 1; i >= 0; i--)
        {
            var session = _busy[i];
            while (session.InFlight.TryPeek(out var step) && step.Timing.End.IsComplete())
            {
                var (startedAt, endedAt) = DeviceContext.Measure(step.Timing);
                session.InFlight.Dequeue();
                InFlight--;
                device.ReturnTiming(step.Timing);
                session.Retired(step);
                Deliver(step, session, step.Failure, step.FailureMessage, startedAt, endedAt);
                completed++;
            }
            if (session.InFlight.Count == 0)
            {
                _busy.RemoveAt(i);
            }
        }
        return completed;
    }

    /// <summary>Fails a step that never reached the device: its start and end times are 0.</summary>
    public void FailUnrun(Step step, SessionState session, EngineError error, string? message) =>
        Deliver(step, session, error, message, 0, 0);

    /// <summary>
    /// Fails every step on the device after a sticky fault, and <paramref name="issuing"/>, the
    /// step being queued when it surfaced, if there was one; returns how many steps could have
    /// caused it. A sticky fault names no stream, so it is pinned on a step only when exactly one
    /// could have caused it: a step whose kernel faults never completes, and a step none of whose
    /// ops were queued cannot have. That step gets <see cref="EngineError.KernelFault"/>. With
    /// several suspects (several sessions' steps, or several of one session's, as which had
    /// started is unknown), each gets <see cref="EngineError.DeviceReset"/>, which says that
    /// retrying is safe.
    /// </summary>
    public int FailAfterFault(GpuException fault, Step? issuing, SessionState? issuingSession, DeviceContext device)
    {
        var suspects = InFlight + (issuing is { IssuedOps: > 0 } ? 1 : 0);
        var (error, message) = suspects == 1
            ? (EngineError.KernelFault, $"the step faulted the device: {fault.Message}. The device was reset; handles stay valid, buffer contents are lost (zeroed)")
            : (EngineError.DeviceReset, $"the device was reset after a fault ({fault.Status}) with {suspects} steps on it, which cannot be pinned on one of them; retry. Handles stay valid, buffer contents are lost (zeroed)");
        foreach (var session in _busy)
        {
            while (session.InFlight.TryDequeue(out var step))
            {
                Abort(step, session, device, error, message);
            }
        }
        _busy.Clear();
        InFlight = 0;
        if (issuing is not null)
        {
            if (issuing.IssuedOps > 0)
            {
                Abort(issuing, issuingSession!, device, error, message);
            }
            else
            {
                Abort(issuing, issuingSession!, device, EngineError.DeviceReset, "the device was reset after a fault while this step was being queued; retry");
            }
        }
        return suspects;
    }

    private static void Issue(Step step, SessionState session, GpuStream stream, KernelArguments arguments)
    {
        var ops = step.Ops;
        for (var i = 0; i < ops.Length; i++)
        {
            try
            {
                IssueOp(step, session, stream, arguments, ops[i]);
                step.IssuedOps++;
            }
            catch (GpuException e) when (!e.IsContextFatal)
            {
                // The ops queued before it will run: the step is reported once they have.
                step.Failure = e.Status is GpuStatus.InvalidValue or GpuStatus.LaunchOutOfResources or GpuStatus.NotSupported
                    ? EngineError.InvalidArgument
                    : EngineError.KernelFault;
                step.FailureMessage = $"{ops[i].Describe(i)}: {e.Message}";
                return;
            }
        }
    }

    /// <summary>Queues one validated op: every handle it names is the session's.</summary>
    private static void IssueOp(Step step, SessionState session, GpuStream stream, KernelArguments arguments, in StepOp op)
    {
        switch (op.Kind)
        {
            case StepOpKind.CopyIn when op.Bytes > 0:
                stream.CopyToDevice(BufferOf(session, op.Buffer) + op.BufferOffset, RegionOf(session, op.Region) + (nint)op.RegionOffset, op.Bytes);
                break;
            case StepOpKind.CopyOut when op.Bytes > 0:
                stream.CopyToHost(RegionOf(session, op.Region) + (nint)op.RegionOffset, BufferOf(session, op.Buffer) + op.BufferOffset, op.Bytes);
                break;
            case StepOpKind.Launch:
                session.Functions.TryGet(op.Function, out var function);
                stream.Launch(function!.Function, op.Config, Resolve(step, session, op, arguments));
                break;
        }
    }

    private static KernelArguments Resolve(Step step, SessionState session, in StepOp launch, KernelArguments arguments)
    {
        arguments.Clear();
        foreach (var argument in step.ArgumentsOf(launch))
        {
            _ = argument.Kind switch
            {
                KernelArgumentKind.Pointer => arguments.Add(BufferOf(session, argument.Buffer) + argument.Bits),
                KernelArgumentKind.Int32 => arguments.Add((int)argument.Bits),
                KernelArgumentKind.UInt32 => arguments.Add((uint)argument.Bits),
                KernelArgumentKind.Int64 => arguments.Add((long)argument.Bits),
                KernelArgumentKind.UInt64 => arguments.Add(argument.Bits),
                KernelArgumentKind.Float32 => arguments.Add(BitConverter.Int32BitsToSingle((int)argument.Bits)),
                _ => arguments.Add(BitConverter.Int64BitsToDouble((long)argument.Bits)),
            };
        }
        return arguments;
    }

    private static DevicePtr BufferOf(SessionState session, uint handle)
    {
        session.Buffers.TryGet(handle, out var buffer);
        return buffer!.Pointer;
    }

    private static nint RegionOf(SessionState session, uint handle)
    {
        session.Regions.TryGet(handle, out var region);
        return region!.Pointer;
    }

    private void Abort(Step step, SessionState session, DeviceContext device, EngineError error, string message)
    {
        if (step.Timing.IsHeld)
        {
            device.ReturnTiming(step.Timing);
        }
        Deliver(step, session, error, message, 0, 0);
    }

    /// <summary>
    /// Hands the outcome to the session's sink. The step goes back to the pool first, and leaves
    /// the session's count of outstanding steps, so that a client answering the completion at
    /// once is not refused for a step that has already finished.
    /// </summary>
    private void Deliver(Step step, SessionState session, EngineError status, string? message, long startedAt, long endedAt)
    {
        var completion = new StepCompletion(step.RequestId, status, message, step.QueuedAtNs, startedAt, endedAt);
        if (status == EngineError.None)
        {
            session.StepsCompleted++;
        }
        else
        {
            session.StepsFailed++;
        }
        var owner = session.Session;
        owner.Retire(step);
        try
        {
            owner.Sink.OnStepCompleted(in completion);
        }
        catch (Exception e)
        {
            SessionLog.SinkFailed(logger, owner.Id, e);
        }
    }
}
