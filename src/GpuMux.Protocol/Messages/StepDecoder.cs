using GpuMux.Protocol.Framing;

namespace GpuMux.Protocol.Messages;

/// <summary>
/// Walks a SubmitStep payload op by op without allocating: <see cref="TryReadOp"/>, and after a
/// launch, <see cref="ReadArgument"/> once per argument. Ops out of order (<see cref="StepOpOrder"/>)
/// are malformed.
/// </summary>
public ref struct StepDecoder
{
    private PayloadReader _reader;
    private int _opsLeft;
    private int _argumentsLeft;
    private StepOpOrder _order;

    public StepDecoder(ReadOnlySpan<byte> payload)
    {
        _reader = new PayloadReader(payload);
        var flags = _reader.ReadUInt16();
        if (flags != 0)
        {
            throw new MalformedPayloadException($"step flags 0x{flags:x4} are reserved and must be 0");
        }

        OpCount = _reader.ReadUInt16();
        _opsLeft = OpCount;
    }

    public int OpCount { get; }

    public bool TryReadOp(out StepOp op)
    {
        if (_argumentsLeft != 0)
        {
            throw new InvalidOperationException("read the launch's arguments before the next op");
        }

        if (_opsLeft == 0)
        {
            _reader.EnsureEnd();
            op = default;
            return false;
        }

        _opsLeft--;
        var kind = (StepOpKind)_reader.ReadByte();
        op = kind switch
        {
            StepOpKind.CopyIn => ReadCopyIn(),
            StepOpKind.CopyOut => ReadCopyOut(),
            StepOpKind.Launch => ReadLaunch(),
            StepOpKind.UseModel => ReadUseModel(),
            StepOpKind.Schedule => ReadSchedule(),
            _ => throw new MalformedPayloadException($"op {OpCount - _opsLeft - 1} has unknown kind {(byte)kind}"),
        };
        if (_order.Admit(kind) is { } misplaced)
        {
            throw new MalformedPayloadException(misplaced);
        }

        _argumentsLeft = op.ArgumentCount;
        return true;
    }

    public LaunchArgument ReadArgument()
    {
        if (_argumentsLeft == 0)
        {
            throw new InvalidOperationException("the launch has no more arguments");
        }

        _argumentsLeft--;
        var kind = (ArgumentKind)_reader.ReadByte();
        return kind switch
        {
            ArgumentKind.Buffer or ArgumentKind.Tensor => new(kind, _reader.ReadUInt32(), _reader.ReadUInt64()),
            ArgumentKind.Int32 or ArgumentKind.UInt32 => new(kind, 0, _reader.ReadUInt32()),
            ArgumentKind.Float32 => new(kind, 0, _reader.ReadUInt32()),
            ArgumentKind.Int64 or ArgumentKind.UInt64 or ArgumentKind.Float64 => new(kind, 0, _reader.ReadUInt64()),
            _ => throw new MalformedPayloadException($"launch argument has unknown kind {(byte)kind}"),
        };
    }

    private StepOp ReadCopyIn()
    {
        var region = _reader.ReadUInt32();
        var regionOffset = _reader.ReadUInt64();
        var buffer = _reader.ReadUInt32();
        var bufferOffset = _reader.ReadUInt64();
        return new(StepOpKind.CopyIn, region, regionOffset, buffer, bufferOffset, _reader.ReadUInt64(), 0, 0, 0, 0, 0, 0, 0, 0, 0);
    }

    private StepOp ReadCopyOut()
    {
        var buffer = _reader.ReadUInt32();
        var bufferOffset = _reader.ReadUInt64();
        var region = _reader.ReadUInt32();
        var regionOffset = _reader.ReadUInt64();
        return new(StepOpKind.CopyOut, region, regionOffset, buffer, bufferOffset, _reader.ReadUInt64(), 0, 0, 0, 0, 0, 0, 0, 0, 0);
    }

    private StepOp ReadUseModel() => new(StepOpKind.UseModel, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, Model: _reader.ReadUInt32());

    private StepOp ReadSchedule()
    {
        var deadline = _reader.ReadInt64();
        var flags = (ScheduleFlags)_reader.ReadByte();
        if (deadline < 0)
        {
            throw new MalformedPayloadException($"the deadline {deadline} is negative; it is a CLOCK_MONOTONIC time in nanoseconds, or 0 for none");
        }

        if (!flags.AreKnown())
        {
            throw new MalformedPayloadException($"Schedule flags 0x{(byte)flags:x2} set bits other than 0 (fail_if_late) and 1 (ends_request)");
        }

        return new(StepOpKind.Schedule, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, DeadlineNs: deadline, Flags: flags);
    }

    private StepOp ReadLaunch() => new(
        StepOpKind.Launch, 0, 0, 0, 0, 0,
        Function: _reader.ReadUInt32(),
        GridX: _reader.ReadUInt32(), GridY: _reader.ReadUInt32(), GridZ: _reader.ReadUInt32(),
        BlockX: _reader.ReadUInt32(), BlockY: _reader.ReadUInt32(), BlockZ: _reader.ReadUInt32(),
        SharedMemoryBytes: _reader.ReadUInt32(),
        ArgumentCount: _reader.ReadByte());
}
