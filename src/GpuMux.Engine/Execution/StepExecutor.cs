using GpuMux.Engine.Device;
using GpuMux.Engine.Metrics;
using GpuMux.Engine.Models;
using GpuMux.Engine.Scheduling;
using GpuMux.Engine.Sessions;
using GpuMux.Gpu;
using Microsoft.Extensions.Logging;

namespace GpuMux.Engine.Execution;

/// <summary>
/// Takes steps to the device and their outcomes back to the sessions: queues a validated step's
/// ops on the session's stream, a timing mark before the first and after each (its launches
/// behind the layer groups of its model they use), reads the marks as they complete to charge
/// each step its own ops (<see cref="StepCharges"/>), and hands each completion to the session's
/// sink (booking it with the <see cref="StepLedger"/> first), all on the engine thread.
/// </summary>
internal sealed class StepExecutor(ILogger logger, StepLedger ledger, EngineMetrics metrics)
{
    private readonly StepWatchdog _watchdog = new(ledger.Classes);
    /// <summary>Sessions with steps on the device; each one's steps complete in order, so only its oldest is watched.</summary>
    private readonly List<SessionState> _busy = [];
    private readonly List<EndedStep> _ended = [];
    private readonly StepCharges _charges = new();

    public int InFlight { get; private set; }

    /// <summary>The step on the device past its class's time limit whose limit passed first, if any, and whether it is the only step started there; see <see cref="StepWatchdog"/>.</summary>
    public Step? FindOverrun(long nowNs, out bool alone) => _watchdog.FindOverrun(_busy, nowNs, out alone);

    /// <summary>
    /// Puts a validated step on the device: its first mark on the session's stream, and it
    /// counts as on the device from now on, though its ops are issued by <see cref="Continue"/>.
    /// False when it cannot even be prepared, in which case it has been failed. A
    /// <see cref="GpuException"/> that escapes leaves the device in a state the engine cannot
    /// vouch for, so the caller resets it.
    /// </summary>
    public bool Begin(Step step, SessionState session, DeviceContext device, Model? model)
    {
        GpuStream stream;
        try
        {
            stream = session.StreamOn(device).Stream;
            step.Timing = device.BeginTiming(stream);
        }
        catch (GpuException e) when (!e.IsContextFatal)
        {
            FailUnrun(step, session, EngineError.Internal, $"the step cannot be prepared on the device: {e.Message}");
            return false;
        }
        step.Sequence = session.Issued(step);
        if (session.InFlight.Count == 1)
        {
            _busy.Add(session);
        }
        InFlight++;
        if (model is not null)
        {
            step.BoundModel = model;
            model.InFlightSteps++;
            model.NextUse.Note(MonotonicClock.NowNanoseconds());
        }
        return true;
    }

    /// <summary>
    /// Issues the step's ops from where it stopped, each launch behind the layer groups of its
    /// model that it uses, each followed by a mark. False when a launch needs a group whose copies
    /// are not queued yet (its model is being read from a file): the step is suspended, to go on
    /// when they are.
    /// </summary>
    public static bool Continue(Step step, SessionState session, DeviceContext device)
    {
        var watched = session.StreamOn(device);
        var stream = watched.Stream;
        var ops = step.Ops;
        var model = step.BoundModel;
        while (step.NextOp < ops.Length && step.Failure == EngineError.None)
        {
            var op = ops[step.NextOp];
            if (model is not null && op.Kind == StepOpKind.Launch && !WaitForGroups(step, model, op, stream, device))
            {
                if (step.Failure != EngineError.None)
                {
                    break;
                }
                step.IsSuspended = true;
                return false;
            }
            try
            {
                var ranOn = IssueOp(step, session, stream, device.Arguments, op);
                step.IssuedOps++;
                if (ranOn != DeviceEngine.None)
                {
                    device.Mark(step.Timing!, stream, ranOn);
                }
            }
            catch (GpuException e) when (!e.IsContextFatal)
            {
                // The ops queued before it will run: the step is reported once they have.
                step.Failure = e.Status is GpuStatus.InvalidValue or GpuStatus.LaunchOutOfResources or GpuStatus.NotSupported
                    ? EngineError.InvalidArgument
                    : EngineError.KernelFault;
                step.FailureMessage = $"{op.Describe(step.NextOp)}: {e.Message}";
                break;
            }
            step.NextOp++;
        }
        step.IsSuspended = false;
        device.CloseTiming(step.Timing!, stream);
        watched.WakeAfterQueuedWork();
        step.IssuedAtNs = MonotonicClock.NowNanoseconds();
        return true;
    }

    /// <summary>
    /// Charges the ops whose marks have completed, then delivers every step whose marks all have,
    /// in the order they ended, each session's in the order it submitted them; returns how many.
    /// A failed event query means a broken context and is left to the caller, once the steps
    /// found complete before it have been delivered: they ended before the fault surfaced, and
    /// their session's later steps are failed after them.
    /// </summary>
    public int Poll(DeviceContext device)
    {
        var completed = 0;
        try
        {
            _charges.Update(_busy);
            for (var i = _busy.Count - 1; i >= 0; i--)
            {
                var session = _busy[i];
                while (session.InFlight.TryPeek(out var step) && step.Timing!.IsDone)
                {
                    var timing = step.Timing!;
                    // A session's steps run one after another on its stream, but each is measured
                    // from the anchor current when it was issued, in a float of milliseconds: two
                    // that ended together can come out tied or crossed.
                    var startedAt = Math.Max(timing.StartedAtNs, session.LastEndedAtNs);
                    var endedAt = Math.Max(timing.LatestNs, startedAt);
                    session.LastEndedAtNs = endedAt;
                    session.InFlight.Dequeue();
                    InFlight--;
                    LeaveModel(step);
                    _ended.Add(new EndedStep(step, session, startedAt, endedAt, timing.ChargedNs, _ended.Count));
                    device.ReturnTiming(timing);
                }
                if (session.InFlight.Count == 0)
                {
                    _busy.RemoveAt(i);
                }
            }
        }
        finally
        {
            completed = _ended.Count;
            DeliverEnded();
        }
        return completed;
    }

    /// <summary>Fails a step that never reached the device: its start and end times are 0.</summary>
    public void FailUnrun(Step step, SessionState session, EngineError error, string? message) =>
        Deliver(step, session, error, message, 0, 0, 0);

    /// <summary>
    /// Takes every step off the device after a sticky fault, to be failed by
    /// <see cref="FailFaulted"/> once the engine knows whether the device came back.
    /// <paramref name="issuing"/> is the step whose ops were being queued when the fault surfaced,
    /// if any: with none of its ops queued, it cannot have caused it. <paramref name="culprit"/>
    /// is the step the fault is pinned on from outside (one past its time limit, alone on the
    /// device), if any.
    /// </summary>
    public FaultedSteps TakeAfterFault(GpuException fault, Step? issuing, DeviceContext device, Step? culprit)
    {
        var innocent = issuing is { IssuedOps: 0, Sequence: > 0 } ? 1 : 0;
        var faulted = new FaultedSteps(fault, culprit is null ? InFlight - innocent : 1);
        var role = faulted.SuspectRole;
        foreach (var session in _busy)
        {
            session.Suspended = null;
            while (session.InFlight.TryDequeue(out var step))
            {
                LeaveModel(step);
                if (step.Timing is not null)
                {
                    device.ReturnTiming(step.Timing);
                }
                faulted.Steps.Add((step, session, RoleOf(step)));
            }
        }
        _busy.Clear();
        InFlight = 0;
        return faulted;

        FaultedSteps.Role RoleOf(Step step) =>
            culprit is not null ? (step == culprit ? FaultedSteps.Role.Culprit : FaultedSteps.Role.Bystander)
            : step == issuing && innocent == 1 ? FaultedSteps.Role.Queuing
            : role;
    }

    /// <summary>Fails the steps a fault took off the device; <paramref name="lost"/> says why the device did not come back, or is null when it did.</summary>
    public void FailFaulted(FaultedSteps faulted, string? lost)
    {
        foreach (var (step, session, role) in faulted.Steps)
        {
            var (error, message) = faulted.OutcomeOf(role, lost);
            Deliver(step, session, error, message, 0, 0, 0);
        }
    }

    /// <summary>
    /// Delivers the steps <see cref="Poll"/> found ended, by end time; ties keep the order they
    /// were found in, which is each session's own.
    /// </summary>
    private void DeliverEnded()
    {
        _ended.Sort(static (a, b) => a.EndedAtNs != b.EndedAtNs ? a.EndedAtNs.CompareTo(b.EndedAtNs) : a.Found.CompareTo(b.Found));
        foreach (var ended in _ended)
        {
            Deliver(ended.Step, ended.Session, ended.Step.Failure, ended.Step.FailureMessage, ended.StartedAtNs, ended.EndedAtNs, ended.ChargedNs);
        }
        _ended.Clear();
    }

    /// <summary>Queues one validated op (every handle it names is the session's); returns the engine that runs it, <see cref="DeviceEngine.None"/> when nothing was queued.</summary>
    private static DeviceEngine IssueOp(Step step, SessionState session, GpuStream stream, KernelArguments arguments, in StepOp op)
    {
        switch (op.Kind)
        {
            case StepOpKind.CopyIn when op.Bytes > 0:
                stream.CopyToDevice(BufferOf(session, op.Buffer) + op.BufferOffset, RegionOf(session, op.Region) + (nint)op.RegionOffset, op.Bytes);
                return DeviceEngine.CopyIn;
            case StepOpKind.CopyOut when op.Bytes > 0:
                stream.CopyToHost(RegionOf(session, op.Region) + (nint)op.RegionOffset, BufferOf(session, op.Buffer) + op.BufferOffset, op.Bytes);
                return DeviceEngine.CopyOut;
            case StepOpKind.Launch:
                session.Functions.TryGet(op.Function, out var function);
                stream.Launch(function!.Function, op.Config, Resolve(step, session, op, arguments));
                return DeviceEngine.Compute;
            default:
                return DeviceEngine.None;
        }
    }

    /// <summary>
    /// Makes <paramref name="stream"/> wait for the last layer group of <paramref name="model"/>
    /// that the launch's tensors lie in, unless it already does or the swap-in has landed; groups
    /// are copied in order, so that one covers the others. A wait is followed by a mark, so that
    /// the launch is not charged for it. False when that group is not queued yet, or never will
    /// be (the step's <see cref="Step.Failure"/> then says why).
    /// </summary>
    private static bool WaitForGroups(Step step, Model model, in StepOp launch, GpuStream stream, DeviceContext device)
    {
        var group = -1;
        foreach (var argument in step.ArgumentsOf(launch))
        {
            if (argument.IsTensor)
            {
                group = Math.Max(group, model.Layout.GroupOf((int)(argument.Handle - model.FirstTensor)));
            }
        }
        if (group <= step.WaitedGroup)
        {
            return true;
        }
        if (group >= model.GroupsQueued)
        {
            if (model.SwapFailure is { } failure)
            {
                step.Failure = EngineError.InvalidModel;
                step.FailureMessage = $"{launch.Describe(step.NextOp)}: {failure}";
            }
            return false;
        }
        if (!model.Landed)
        {
            stream.Wait(model.GroupEvents![group]);
            device.Mark(step.Timing!, stream, DeviceEngine.None);
        }
        step.WaitedGroup = group;
        return true;
    }

    private static KernelArguments Resolve(Step step, SessionState session, in StepOp launch, KernelArguments arguments)
    {
        arguments.Clear();
        foreach (var argument in step.ArgumentsOf(launch))
        {
            _ = argument.Kind switch
            {
                KernelArgumentKind.Pointer when argument.IsTensor => arguments.Add(TensorOf(step.BoundModel!, argument.Handle) + argument.Bits),
                KernelArgumentKind.Pointer => arguments.Add(BufferOf(session, argument.Handle) + argument.Bits),
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

    private static DevicePtr TensorOf(Model model, uint tensor) =>
        model.Range!.Start + model.Layout.BeginOf((int)(tensor - model.FirstTensor));

    private static nint RegionOf(SessionState session, uint handle)
    {
        session.Regions.TryGet(handle, out var region);
        return region!.Pointer;
    }

    /// <summary>The step is off the device: its model may be evicted once no other step uses it.</summary>
    private static void LeaveModel(Step step)
    {
        if (step.BoundModel is { } model)
        {
            model.InFlightSteps--;
            step.BoundModel = null;
        }
    }

    /// <summary>
    /// Hands the outcome to the session's sink. The step goes back to the pool first, and leaves
    /// the session's count of outstanding steps, so that a client answering the completion at
    /// once is not refused for a step that has already finished.
    /// </summary>
    private void Deliver(Step step, SessionState session, EngineError status, string? message, long startedAt, long endedAt, long chargedNs)
    {
        // The ledger takes the step out of its class; a step refused before it had one counts under its session's.
        var classIndex = step.ClassIndex >= 0 ? step.ClassIndex : session.ClassIndex;
        metrics.StepDelivered(classIndex, status, step.QueuedAtNs, startedAt, endedAt);
        ledger.Record(step, session, startedAt, chargedNs);
        var completion = new StepCompletion(step.RequestId, status, message, step.QueuedAtNs, startedAt, endedAt, ledger.Classes[classIndex].Name);
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

/// <summary>A step off the device, waiting to be delivered with the others that ended in the same poll; <see cref="Found"/> is its place among them as found.</summary>
internal readonly record struct EndedStep(Step Step, SessionState Session, long StartedAtNs, long EndedAtNs, long ChargedNs, int Found);
