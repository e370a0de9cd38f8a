using GpuMux.Engine.Device;
using GpuMux.Engine.Execution;
using GpuMux.Engine.Models;
using GpuMux.Engine.Threading;
using GpuMux.Gpu;

namespace GpuMux.Engine;

/// <summary>
/// An ordered list of ops to run on the device as one unit: copies in from a session's regions,
/// launches, copies out. Rent one from <see cref="EngineSession.RentStep"/>, fill it, and hand it
/// to <see cref="EngineSession.Submit"/>; it goes back to the pool by itself once its completion
/// has been delivered, so it must not be touched after submission. Filling a rented step never
/// fails: a step filled wrongly fails as a whole, through the completion sink, once submitted.
/// </summary>
public sealed class Step : IEngineWork
{
    /// <summary>
    /// More than the 4 KiB of kernel parameter space can hold at 4 bytes each; a launch beyond
    /// it could never be valid, and the bound keeps a pooled step from growing without end.
    /// </summary>
    internal const int MaxArgumentsPerLaunch = 1024;

    private StepOp[] _ops = new StepOp[8];
    private StepArgument[] _arguments = new StepArgument[16];
    private int _opCount;
    private int _argumentCount;
    private int _opLimit;
    private bool _lastOpIsLaunch;
    private uint _model;
    private StepState _state;

    internal Step()
    {
    }

    private enum StepState
    {
        Pooled,
        Rented,
        Submitted,
    }

    /// <summary>The client's tag for the step, echoed in its completion.</summary>
    public uint RequestId { get; set; }

    internal EngineSession? Owner { get; private set; }

    /// <summary>Ops the daemon added, including any beyond the limit that were counted but not kept.</summary>
    internal int RequestedOps { get; private set; }

    internal StepDefect Defect { get; private set; }

    internal ReadOnlySpan<StepOp> Ops => _ops.AsSpan(0, _opCount);

    /// <summary>0 when the step has no deadline.</summary>
    internal long DeadlineNs { get; private set; }

    internal bool FailIfLate { get; private set; }

    /// <summary>
    /// The deadline the scheduler orders the step by while it is held: its own, or an earlier one
    /// of a step held behind it in its session, which cannot start before it. 0 when neither has one.
    /// </summary>
    internal long EffectiveDeadlineNs { get; set; }

    internal bool EndsRequest { get; private set; }

    /// <summary>Past its deadline, and asked to fail rather than run late.</summary>
    internal bool IsLate(long nowNs) => FailIfLate && DeadlineNs != 0 && nowNs > DeadlineNs;

    /// <summary>The handle of the model the step is bound to; 0 when it is bound to none.</summary>
    internal uint ModelHandle => _model;

    // What the engine knows of the step once submitted; touched only by the engine thread,
    // apart from the two set by Submit before the step is queued.
    internal long QueuedAtNs { get; private set; }

    internal bool RejectedAsTooManyInFlight { get; private set; }

    internal long Sequence { get; set; }

    /// <summary>Its marks on the device; null before it reaches the device and once it is off.</summary>
    internal StepTiming? Timing { get; set; }

    /// <summary>An error met after some of the step's ops were queued; reported when those have run.</summary>
    internal EngineError Failure { get; set; }

    internal string? FailureMessage { get; set; }

    /// <summary>How many of its ops reached the device's queue, which decides whether a fault could be its own.</summary>
    internal int IssuedOps { get; set; }

    /// <summary>The op to issue next: a step waiting for its model's weights to be read from a file is issued in parts.</summary>
    internal int NextOp { get; set; }

    /// <summary>Issued in part, waiting for a layer group of its model to be queued for the device.</summary>
    internal bool IsSuspended { get; set; }

    /// <summary>The model the step is on the device with, which may not be evicted until the step is done.</summary>
    internal Model? BoundModel { get; set; }

    /// <summary>The last layer group of <see cref="BoundModel"/> its stream already waits for; -1 for none.</summary>
    internal int WaitedGroup { get; set; } = -1;

    /// <summary>The model the step counts as queued for while it waits to start.</summary>
    internal Model? QueuedFor { get; private set; }

    /// <summary>The priority class it was issued from, until it is booked; -1 before it is issued and after.</summary>
    internal int ClassIndex { get; set; } = -1;

    /// <summary>The device time its tenant was charged in advance when it was issued.</summary>
    internal double EstimatedNs { get; set; }

    /// <summary>The model it was issued for, whose accounts it is booked to.</summary>
    internal Model? UsedModel { get; set; }

    /// <summary>When its last op was queued, on the host clock: it cannot have started on the device before.</summary>
    internal long IssuedAtNs { get; set; }

    /// <summary>When it started on the device, on the host clock, once its limit has been checked against it; 0 before.</summary>
    internal long DeviceStartNs { get; set; }

    public void AddCopyIn(uint region, ulong regionOffset, uint buffer, ulong bufferOffset, ulong bytes) =>
        AddOp(new StepOp { Kind = StepOpKind.CopyIn, Region = region, RegionOffset = regionOffset, Buffer = buffer, BufferOffset = bufferOffset, Bytes = bytes });

    public void AddCopyOut(uint buffer, ulong bufferOffset, uint region, ulong regionOffset, ulong bytes) =>
        AddOp(new StepOp { Kind = StepOpKind.CopyOut, Region = region, RegionOffset = regionOffset, Buffer = buffer, BufferOffset = bufferOffset, Bytes = bytes });

    /// <summary>A kernel launch; its arguments follow, in the kernel's parameter order.</summary>
    public void AddLaunch(uint function, Dim3 grid, Dim3 block, uint sharedMemoryBytes) =>
        AddOp(new StepOp { Kind = StepOpKind.Launch, Function = function, Config = new LaunchConfig(grid, block, sharedMemoryBytes), FirstArgument = _argumentCount });

    /// <summary>A pointer argument: the device address of <paramref name="buffer"/> plus <paramref name="offset"/>, as it is when the step runs.</summary>
    public void AddBufferArgument(uint buffer, ulong offset) => AddArgument(new StepArgument(KernelArgumentKind.Pointer, offset, buffer, IsTensor: false));

    /// <summary>
    /// Binds the step to one of the session's models: its weights are made resident before the
    /// step runs, and its tensors may be launch arguments. A step is bound to at most one model.
    /// </summary>
    public void UseModel(uint model)
    {
        ThrowUnlessFilling();
        if (_model != 0 && _model != model)
        {
            NoteDefect(StepDefect.SecondModel);
            return;
        }
        if (model == 0)
        {
            NoteDefect(StepDefect.NoSuchModel);
            return;
        }
        _model = model;
    }

    /// <summary>
    /// A pointer argument: the device address of <paramref name="tensor"/> of the bound model
    /// plus <paramref name="offset"/>. The launch waits only for the layer group holding it.
    /// </summary>
    public void AddTensorArgument(uint tensor, ulong offset) => AddArgument(new StepArgument(KernelArgumentKind.Pointer, offset, tensor, IsTensor: true));

    /// <summary>
    /// Gives the step a deadline on <c>CLOCK_MONOTONIC</c>: among its tenant's steps, those with
    /// the earliest deadlines go first. With <paramref name="failIfLate"/>, a step still waiting
    /// when its deadline passes fails with <see cref="EngineError.DeadlineMissed"/> instead of running.
    /// </summary>
    public void SetDeadline(long deadlineNs, bool failIfLate)
    {
        ThrowUnlessFilling();
        DeadlineNs = deadlineNs;
        FailIfLate = failIfLate;
    }

    /// <summary>Marks the last step of a request: under the <c>Request</c> policy its model may be swapped out once it is done.</summary>
    public void EndRequest()
    {
        ThrowUnlessFilling();
        EndsRequest = true;
    }

    public void AddScalarArgument(int value) => AddArgument(new StepArgument(KernelArgumentKind.Int32, (uint)value, 0, IsTensor: false));

    public void AddScalarArgument(uint value) => AddArgument(new StepArgument(KernelArgumentKind.UInt32, value, 0, IsTensor: false));

    public void AddScalarArgument(long value) => AddArgument(new StepArgument(KernelArgumentKind.Int64, (ulong)value, 0, IsTensor: false));

    public void AddScalarArgument(ulong value) => AddArgument(new StepArgument(KernelArgumentKind.UInt64, value, 0, IsTensor: false));

    public void AddScalarArgument(float value) => AddArgument(new StepArgument(KernelArgumentKind.Float32, (uint)BitConverter.SingleToInt32Bits(value), 0, IsTensor: false));

    public void AddScalarArgument(double value) => AddArgument(new StepArgument(KernelArgumentKind.Float64, (ulong)BitConverter.DoubleToInt64Bits(value), 0, IsTensor: false));

    void IEngineWork.Execute(EngineRuntime runtime) => runtime.Submit(this);

    void IEngineWork.Abandon() => Owner!.Retire(this);

    internal ReadOnlySpan<StepArgument> ArgumentsOf(in StepOp launch) => _arguments.AsSpan(launch.FirstArgument, launch.ArgumentCount);

    internal void Rent(EngineSession owner, int opLimit)
    {
        if (_state != StepState.Pooled)
        {
            throw new InvalidOperationException("a step in use was rented again");
        }
        _state = StepState.Rented;
        Owner = owner;
        _opLimit = opLimit;
    }

    internal void MarkSubmitted(EngineSession session, long queuedAtNs, bool rejectedAsTooManyInFlight)
    {
        if (_state != StepState.Rented)
        {
            throw new InvalidOperationException("the step is not rented: it was submitted already, and a step is rented anew for each submission");
        }
        if (Owner != session)
        {
            throw new InvalidOperationException("the step was rented from another session");
        }
        _state = StepState.Submitted;
        QueuedAtNs = queuedAtNs;
        RejectedAsTooManyInFlight = rejectedAsTooManyInFlight;
    }

    /// <summary>Clears the step for its next use; keeps its arrays, so a warm pool allocates nothing.</summary>
    internal void Recycle()
    {
        _state = StepState.Pooled;
        Owner = null;
        RequestId = 0;
        _opCount = 0;
        _argumentCount = 0;
        _lastOpIsLaunch = false;
        _model = 0;
        DeadlineNs = 0;
        EffectiveDeadlineNs = 0;
        FailIfLate = false;
        EndsRequest = false;
        RequestedOps = 0;
        Defect = StepDefect.None;
        QueuedAtNs = 0;
        RejectedAsTooManyInFlight = false;
        Sequence = 0;
        Timing = null;
        Failure = EngineError.None;
        FailureMessage = null;
        IssuedOps = 0;
        NextOp = 0;
        IsSuspended = false;
        BoundModel = null;
        WaitedGroup = -1;
        QueuedFor = null;
        ClassIndex = -1;
        EstimatedNs = 0;
        UsedModel = null;
        IssuedAtNs = 0;
        DeviceStartNs = 0;
    }

    /// <summary>Counts the step as waiting for <paramref name="model"/>, which is then not evicted ahead of models nothing waits for.</summary>
    internal void JoinQueue(Model model)
    {
        if (QueuedFor is null)
        {
            model.QueuedSteps++;
            QueuedFor = model;
        }
    }

    internal void LeaveQueue()
    {
        if (QueuedFor is { } model)
        {
            model.QueuedSteps--;
            QueuedFor = null;
        }
    }

    private void AddOp(in StepOp op)
    {
        ThrowUnlessFilling();
        RequestedOps++;
        if (_opCount >= _opLimit)
        {
            NoteDefect(StepDefect.TooManyOps);
            _lastOpIsLaunch = false;
            return;
        }
        if (_opCount == _ops.Length)
        {
            Array.Resize(ref _ops, _ops.Length * 2);
        }
        _ops[_opCount++] = op;
        _lastOpIsLaunch = op.Kind == StepOpKind.Launch;
    }

    private void AddArgument(in StepArgument argument)
    {
        ThrowUnlessFilling();
        if (!_lastOpIsLaunch)
        {
            // Arguments of a launch past the op limit are dropped with it: that defect is already noted.
            NoteDefect(RequestedOps > _opCount ? StepDefect.TooManyOps : StepDefect.ArgumentWithoutLaunch);
            return;
        }
        ref var launch = ref _ops[_opCount - 1];
        if (launch.ArgumentCount == MaxArgumentsPerLaunch)
        {
            NoteDefect(StepDefect.TooManyArguments);
            return;
        }
        if (_argumentCount == _arguments.Length)
        {
            Array.Resize(ref _arguments, _arguments.Length * 2);
        }
        _arguments[_argumentCount++] = argument;
        launch = launch with { ArgumentCount = launch.ArgumentCount + 1 };
    }

    private void NoteDefect(StepDefect defect)
    {
        if (Defect == StepDefect.None)
        {
            Defect = defect;
        }
    }

    private void ThrowUnlessFilling()
    {
        if (_state != StepState.Rented)
        {
            throw new InvalidOperationException("a step can be filled only between RentStep and Submit");
        }
    }
}
