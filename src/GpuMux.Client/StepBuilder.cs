using GpuMux.Protocol.Framing;
using GpuMux.Protocol.Messages;

namespace GpuMux.Client;

/// <summary>
/// The ops of one step, in the order they run: copies between shared regions and device buffers,
/// and kernel launches, each launch followed by its arguments
/// (<c>step.Launch(f, grid, block).Buffer(y).Buffer(x).Float32(a).UInt64(n)</c>). A step that
/// begins with <see cref="UseModel"/> runs with that model on the device, and its launches may
/// take the model's tensors (<see cref="Tensor"/>). <see cref="Deadline"/> and
/// <see cref="EndRequest"/> tell the daemon's scheduler about the step as a whole.
/// Build it once and reuse it: <see cref="Clear"/> keeps its storage, so a reused builder submits
/// without allocating. Not thread-safe; one builder per concurrent submitter.
/// </summary>
public sealed class StepBuilder
{
    // Sizes on the wire (docs/protocol.md §4.4): the step's flags and op count; a copy; a launch
    // up to its argument count; an argument's kind byte.
    private const int StepHeaderBytes = 2 + 2;
    private const int CopyBytes = 1 + 4 + 8 + 4 + 8 + 8;
    private const int LaunchBytes = 1 + 4 + (3 * 4) + (3 * 4) + 4 + 1;
    private const int UseModelBytes = 1 + 4;
    private const int ScheduleBytes = 1 + 8 + 1;
    private const int ArgumentKindBytes = 1;

    private RecordedOp[] _ops = new RecordedOp[8];
    private RecordedArgument[] _arguments = new RecordedArgument[16];
    private int _opCount;
    private int _argumentCount;
    private int _lastLaunchArguments = -1;
    private int _payloadLength = StepHeaderBytes;
    private ClientModel? _model;
    private bool _scheduled;
    private long _deadlineNs;
    private ScheduleFlags _scheduleFlags;

    /// <summary>The copies, launches and UseModel added so far.</summary>
    public int OpCount => _opCount;

    /// <summary>Whether the step carries a Schedule op (protocol 1.2).</summary>
    internal bool IsScheduled => _scheduled;

    /// <summary>The SubmitStep frame's length, header included.</summary>
    internal int FrameLength => FrameHeader.Size + _payloadLength;

    /// <summary>Empties the builder for the next step, keeping its buffers.</summary>
    public StepBuilder Clear()
    {
        // Drop the references to regions, buffers, functions and models, so a builder kept around holds nothing alive.
        Array.Clear(_ops, 0, _opCount);
        Array.Clear(_arguments, 0, _argumentCount);
        _opCount = 0;
        _argumentCount = 0;
        _lastLaunchArguments = -1;
        _payloadLength = StepHeaderBytes;
        _model = null;
        _scheduled = false;
        _deadlineNs = 0;
        _scheduleFlags = ScheduleFlags.None;
        return this;
    }

    /// <summary>
    /// Gives the step a deadline, in nanoseconds of CLOCK_MONOTONIC (the clock of
    /// <see cref="StepResult"/>'s times, which <see cref="System.Diagnostics.Stopwatch.GetTimestamp"/>
    /// reads on Linux): among its uid's waiting steps, those with the earliest deadlines go first. With
    /// <paramref name="failIfLate"/>, a step still waiting when its deadline passes fails with
    /// <see cref="DeadlineMissedException"/> instead of running late. Needs protocol 1.2.
    /// </summary>
    public StepBuilder Deadline(long deadlineNs, bool failIfLate)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(deadlineNs);
        Schedule(ScheduleFlags.FailIfLate, failIfLate);
        _deadlineNs = deadlineNs;
        return this;
    }

    /// <summary>
    /// Marks the step as its request's last: under the daemon's <c>request</c> scheduling policy,
    /// its model may be swapped out once it is done, and not before. Needs protocol 1.2.
    /// </summary>
    public StepBuilder EndRequest()
    {
        Schedule(ScheduleFlags.EndsRequest, true);
        return this;
    }

    /// <summary>
    /// Binds the step to <paramref name="model"/>: the daemon makes it resident on the device before
    /// the step runs, and the step's launches may take its tensors. Only as the step's first op.
    /// </summary>
    public StepBuilder UseModel(ClientModel model)
    {
        ArgumentNullException.ThrowIfNull(model);
        if (_opCount != 0)
        {
            throw new InvalidOperationException(_model is null
                ? $"UseModel must be a step's first op, and this step already has {_opCount}: call it first, or Clear the builder"
                : $"the step is already bound to model {_model.Name}: a step uses one model");
        }

        AddOp(new RecordedOp(StepOpKind.UseModel, null, 0, null, 0, 0, Model: model), UseModelBytes);
        _model = model;
        return this;
    }

    /// <summary>Copies <paramref name="bytes"/> from the region into the buffer.</summary>
    public StepBuilder CopyIn(SharedRegion region, ulong regionOffset, DeviceBuffer buffer, ulong bufferOffset, ulong bytes)
    {
        ArgumentNullException.ThrowIfNull(region);
        ArgumentNullException.ThrowIfNull(buffer);
        AddOp(new RecordedOp(StepOpKind.CopyIn, region, regionOffset, buffer, bufferOffset, bytes), CopyBytes);
        return this;
    }

    /// <summary>Copies <paramref name="bytes"/> from the buffer into the region, to read once the step completes.</summary>
    public StepBuilder CopyOut(DeviceBuffer buffer, ulong bufferOffset, SharedRegion region, ulong regionOffset, ulong bytes)
    {
        ArgumentNullException.ThrowIfNull(region);
        ArgumentNullException.ThrowIfNull(buffer);
        AddOp(new RecordedOp(StepOpKind.CopyOut, region, regionOffset, buffer, bufferOffset, bytes), CopyBytes);
        return this;
    }

    /// <summary>A 1-D launch of <paramref name="gridX"/> blocks of <paramref name="blockX"/> threads.</summary>
    public StepBuilder Launch(KernelFunction function, uint gridX, uint blockX, uint sharedMemoryBytes = 0) =>
        Launch(function, gridX, 1, 1, blockX, 1, 1, sharedMemoryBytes);

    /// <summary>A 3-D launch: a grid of blocks, each of <paramref name="blockX"/> × <paramref name="blockY"/> × <paramref name="blockZ"/> threads; the arguments follow.</summary>
    public StepBuilder Launch(
        KernelFunction function, uint gridX, uint gridY, uint gridZ, uint blockX, uint blockY, uint blockZ, uint sharedMemoryBytes = 0)
    {
        ArgumentNullException.ThrowIfNull(function);
        AddOp(new RecordedOp(function, gridX, gridY, gridZ, blockX, blockY, blockZ, sharedMemoryBytes), LaunchBytes);
        _lastLaunchArguments = 0;
        return this;
    }

    /// <summary>The buffer's device address plus <paramref name="offset"/>, as a pointer argument.</summary>
    public StepBuilder Buffer(DeviceBuffer buffer, ulong offset = 0)
    {
        ArgumentNullException.ThrowIfNull(buffer);
        return AddArgument(new RecordedArgument(ArgumentKind.Buffer, offset, buffer), 4 + 8);
    }

    /// <summary>
    /// The device address of a tensor of the step's model plus <paramref name="offset"/>, as a
    /// pointer argument. The launch waits only for the tensor's layer group to be on the device.
    /// </summary>
    public StepBuilder Tensor(ModelTensor tensor, ulong offset = 0)
    {
        ArgumentNullException.ThrowIfNull(tensor);
        if (_model is null)
        {
            throw new InvalidOperationException(
                $"tensor {tensor.Name} is an argument only in a step bound to its model: begin the step with UseModel({tensor.Model.Name})");
        }

        if (!ReferenceEquals(tensor.Model, _model))
        {
            throw new ArgumentException(
                $"tensor {tensor.Name} belongs to model {tensor.Model.Name}, and the step uses model {_model.Name}", nameof(tensor));
        }

        return AddArgument(new RecordedArgument(ArgumentKind.Tensor, offset, Tensor: tensor), 4 + 8);
    }

    /// <summary>An <c>int</c> argument.</summary>
    public StepBuilder Int32(int value) => AddArgument(new RecordedArgument(ArgumentKind.Int32, (uint)value), 4);

    /// <summary>An <c>unsigned int</c> argument.</summary>
    public StepBuilder UInt32(uint value) => AddArgument(new RecordedArgument(ArgumentKind.UInt32, value), 4);

    /// <summary>A <c>long long</c> argument.</summary>
    public StepBuilder Int64(long value) => AddArgument(new RecordedArgument(ArgumentKind.Int64, (ulong)value), 8);

    /// <summary>An <c>unsigned long long</c> argument.</summary>
    public StepBuilder UInt64(ulong value) => AddArgument(new RecordedArgument(ArgumentKind.UInt64, value), 8);

    /// <summary>A <c>float</c> argument.</summary>
    public StepBuilder Float32(float value) =>
        AddArgument(new RecordedArgument(ArgumentKind.Float32, BitConverter.SingleToUInt32Bits(value)), 4);

    /// <summary>A <c>double</c> argument.</summary>
    public StepBuilder Float64(double value) =>
        AddArgument(new RecordedArgument(ArgumentKind.Float64, BitConverter.DoubleToUInt64Bits(value)), 8);

    /// <summary>
    /// Writes the SubmitStep frame into <paramref name="frame"/> (at least <see cref="FrameLength"/>
    /// bytes) and returns its length. Every handle must belong to <paramref name="owner"/>: handles are
    /// numbered per session, so another session's buffer would name one of this session's.
    /// </summary>
    internal int Encode(Span<byte> frame, uint requestId, GpuMuxClient owner)
    {
        var encoder = new StepEncoder(frame);
        if (_scheduled)
        {
            encoder.Schedule(_deadlineNs, _scheduleFlags);
        }

        for (var i = 0; i < _opCount; i++)
        {
            ref readonly var op = ref _ops[i];
            switch (op.Kind)
            {
                case StepOpKind.CopyIn:
                    encoder.CopyIn(op.Region!.HandleFor(owner), op.RegionOffset, op.Buffer!.HandleFor(owner), op.BufferOffset, op.Bytes);
                    break;
                case StepOpKind.CopyOut:
                    encoder.CopyOut(op.Buffer!.HandleFor(owner), op.BufferOffset, op.Region!.HandleFor(owner), op.RegionOffset, op.Bytes);
                    break;
                case StepOpKind.UseModel:
                    encoder.UseModel(op.Model!.HandleFor(owner));
                    break;
                default:
                    encoder.Launch(op.Function!.HandleFor(owner), op.GridX, op.GridY, op.GridZ, op.BlockX, op.BlockY, op.BlockZ, op.SharedMemoryBytes);
                    var end = i + 1 < _opCount ? _ops[i + 1].FirstArgument : _argumentCount;
                    for (var a = op.FirstArgument; a < end; a++)
                    {
                        _arguments[a].Encode(ref encoder, owner);
                    }

                    break;
            }
        }

        return encoder.Finish(requestId);
    }

    /// <summary>Sets or clears one flag of the step's Schedule op, which comes first on the wire whenever it was asked for.</summary>
    private void Schedule(ScheduleFlags flag, bool set)
    {
        if (!_scheduled)
        {
            ThrowIfFull();
            _scheduled = true;
            _payloadLength += ScheduleBytes;
        }

        _scheduleFlags = set ? _scheduleFlags | flag : _scheduleFlags & ~flag;
    }

    private void ThrowIfFull()
    {
        if (_opCount + (_scheduled ? 1 : 0) == ushort.MaxValue)
        {
            throw new InvalidOperationException("a step holds at most 65535 ops");
        }
    }

    private void AddOp(in RecordedOp op, int wireBytes)
    {
        ThrowIfFull();

        if (_opCount == _ops.Length)
        {
            Array.Resize(ref _ops, _ops.Length * 2);
        }

        // Where the op's arguments would start: a launch's end where the next op's begin.
        _ops[_opCount++] = op with { FirstArgument = _argumentCount };
        _payloadLength += wireBytes;
        _lastLaunchArguments = -1;
    }

    private StepBuilder AddArgument(in RecordedArgument argument, int valueBytes)
    {
        if (_lastLaunchArguments < 0)
        {
            throw new InvalidOperationException("a kernel argument follows the Launch it belongs to");
        }

        if (_lastLaunchArguments == byte.MaxValue)
        {
            throw new InvalidOperationException("a launch takes at most 255 arguments");
        }

        if (_argumentCount == _arguments.Length)
        {
            Array.Resize(ref _arguments, _arguments.Length * 2);
        }

        _arguments[_argumentCount++] = argument;
        _lastLaunchArguments++;
        _payloadLength += ArgumentKindBytes + valueBytes;
        return this;
    }

    /// <summary>A copy (region, buffer, offsets, bytes), a launch (function, shape, and where its arguments start), or a model to use.</summary>
    private readonly record struct RecordedOp(
        StepOpKind Kind,
        SharedRegion? Region,
        ulong RegionOffset,
        DeviceBuffer? Buffer,
        ulong BufferOffset,
        ulong Bytes,
        KernelFunction? Function = null,
        uint GridX = 0,
        uint GridY = 0,
        uint GridZ = 0,
        uint BlockX = 0,
        uint BlockY = 0,
        uint BlockZ = 0,
        uint SharedMemoryBytes = 0,
        int FirstArgument = 0,
        ClientModel? Model = null)
    {
        public RecordedOp(KernelFunction function, uint gridX, uint gridY, uint gridZ, uint blockX, uint blockY, uint blockZ, uint sharedMemoryBytes)
            : this(StepOpKind.Launch, null, 0, null, 0, 0, function, gridX, gridY, gridZ, blockX, blockY, blockZ, sharedMemoryBytes)
        {
        }
    }

    /// <summary>A scalar's bits, or a buffer or tensor and the offset into it.</summary>
    private readonly record struct RecordedArgument(ArgumentKind Kind, ulong Bits, DeviceBuffer? Buffer = null, ModelTensor? Tensor = null)
    {
        public void Encode(ref StepEncoder encoder, GpuMuxClient owner)
        {
            switch (Kind)
            {
                case ArgumentKind.Buffer:
                    encoder.BufferArgument(Buffer!.HandleFor(owner), Bits);
                    break;
                case ArgumentKind.Tensor:
                    encoder.TensorArgument(Tensor!.HandleFor(owner), Bits);
                    break;
                case ArgumentKind.Int32:
                    encoder.Argument((int)Bits);
                    break;
                case ArgumentKind.UInt32:
                    encoder.Argument((uint)Bits);
                    break;
                case ArgumentKind.Int64:
                    encoder.Argument((long)Bits);
                    break;
                case ArgumentKind.UInt64:
                    encoder.Argument(Bits);
                    break;
                case ArgumentKind.Float32:
                    encoder.Argument(BitConverter.UInt32BitsToSingle((uint)Bits));
                    break;
                default:
                    encoder.Argument(BitConverter.UInt64BitsToDouble(Bits));
                    break;
            }
        }
    }
}
