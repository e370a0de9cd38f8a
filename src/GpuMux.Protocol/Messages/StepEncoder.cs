using GpuMux.Protocol.Framing;

namespace GpuMux.Protocol.Messages;

/// <summary>
/// Builds a SubmitStep frame in place. Ops are written in the order they run; a launch's arguments
/// follow it. <see cref="Finish"/> fills the op count and the frame header.
/// </summary>
public ref struct StepEncoder
{
    private FrameWriter _writer;
    private readonly Span<byte> _opCountField;
    private Span<byte> _argumentCountField;
    private ushort _opCount;
    private byte _argumentCount;
    private StepOpOrder _order;

    public StepEncoder(Span<byte> buffer)
    {
        _writer = new FrameWriter(buffer);
        _writer.WriteUInt16(0);
        _opCountField = _writer.Reserve(2);
    }

    /// <summary>Binds the step to a model: once, before any copy or launch.</summary>
    public void UseModel(uint model)
    {
        BeginOp(StepOpKind.UseModel);
        _writer.WriteUInt32(model);
    }

    /// <summary>
    /// Gives the step a deadline (CLOCK_MONOTONIC nanoseconds, 0 for none) and its flags: once,
    /// before any copy or launch.
    /// </summary>
    public void Schedule(long deadlineNs, ScheduleFlags flags)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(deadlineNs);
        if (!flags.AreKnown())
        {
            throw new ArgumentException($"0x{(byte)flags:x2} is not a combination of ScheduleFlags", nameof(flags));
        }

        BeginOp(StepOpKind.Schedule);
        _writer.WriteInt64(deadlineNs);
        _writer.WriteByte((byte)flags);
    }

    public void CopyIn(uint region, ulong regionOffset, uint buffer, ulong bufferOffset, ulong bytes)
    {
        BeginOp(StepOpKind.CopyIn);
        _writer.WriteUInt32(region);
        _writer.WriteUInt64(regionOffset);
        _writer.WriteUInt32(buffer);
        _writer.WriteUInt64(bufferOffset);
        _writer.WriteUInt64(bytes);
    }

    public void CopyOut(uint buffer, ulong bufferOffset, uint region, ulong regionOffset, ulong bytes)
    {
        BeginOp(StepOpKind.CopyOut);
        _writer.WriteUInt32(buffer);
        _writer.WriteUInt64(bufferOffset);
        _writer.WriteUInt32(region);
        _writer.WriteUInt64(regionOffset);
        _writer.WriteUInt64(bytes);
    }

    public void Launch(uint function, uint gridX, uint gridY, uint gridZ, uint blockX, uint blockY, uint blockZ, uint sharedMemoryBytes = 0)
    {
        BeginOp(StepOpKind.Launch);
        _writer.WriteUInt32(function);
        _writer.WriteUInt32(gridX);
        _writer.WriteUInt32(gridY);
        _writer.WriteUInt32(gridZ);
        _writer.WriteUInt32(blockX);
        _writer.WriteUInt32(blockY);
        _writer.WriteUInt32(blockZ);
        _writer.WriteUInt32(sharedMemoryBytes);
        _argumentCountField = _writer.Reserve(1);
        _argumentCount = 0;
    }

    public void BufferArgument(uint buffer, ulong offset = 0)
    {
        BeginArgument(ArgumentKind.Buffer);
        _writer.WriteUInt32(buffer);
        _writer.WriteUInt64(offset);
    }

    public void TensorArgument(uint tensor, ulong offset = 0)
    {
        BeginArgument(ArgumentKind.Tensor);
        _writer.WriteUInt32(tensor);
        _writer.WriteUInt64(offset);
    }

    public void Argument(int value)
    {
        BeginArgument(ArgumentKind.Int32);
        _writer.WriteInt32(value);
    }

    public void Argument(uint value)
    {
        BeginArgument(ArgumentKind.UInt32);
        _writer.WriteUInt32(value);
    }

    public void Argument(long value)
    {
        BeginArgument(ArgumentKind.Int64);
        _writer.WriteInt64(value);
    }

    public void Argument(ulong value)
    {
        BeginArgument(ArgumentKind.UInt64);
        _writer.WriteUInt64(value);
    }

    public void Argument(float value)
    {
        BeginArgument(ArgumentKind.Float32);
        _writer.WriteSingle(value);
    }

    public void Argument(double value)
    {
        BeginArgument(ArgumentKind.Float64);
        _writer.WriteDouble(value);
    }

    public readonly int Finish(uint requestId)
    {
        System.Buffers.Binary.BinaryPrimitives.WriteUInt16LittleEndian(_opCountField, _opCount);
        return _writer.Finish(MessageType.SubmitStep, requestId);
    }

    private void BeginOp(StepOpKind kind)
    {
        if (_opCount == ushort.MaxValue)
        {
            throw new InvalidOperationException("a step holds at most 65535 ops");
        }

        if (_order.Admit(kind) is { } misplaced)
        {
            throw new InvalidOperationException(misplaced);
        }

        _opCount++;
        _argumentCountField = default;
        _writer.WriteByte((byte)kind);
    }

    private void BeginArgument(ArgumentKind kind)
    {
        if (_argumentCountField.IsEmpty)
        {
            throw new InvalidOperationException("an argument must follow a launch");
        }

        if (_argumentCount == byte.MaxValue)
        {
            throw new InvalidOperationException("a launch takes at most 255 arguments");
        }

        _argumentCountField[0] = ++_argumentCount;
        _writer.WriteByte((byte)kind);
    }
}
