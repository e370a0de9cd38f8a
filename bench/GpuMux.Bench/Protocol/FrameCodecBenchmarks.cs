using BenchmarkDotNet.Attributes;
using GpuMux.Protocol;
using GpuMux.Protocol.Framing;
using GpuMux.Protocol.Messages;

namespace GpuMux.Bench.Protocol;

/// <summary>
/// The codecs on the step path: a client encodes SubmitStep and decodes StepCompleted, the daemon
/// the other way round. The step is shaped like a decode step's: two copies in, a launch with four
/// arguments, a copy out.
/// </summary>
[MemoryDiagnoser]
public class FrameCodecBenchmarks
{
    private readonly byte[] _buffer = new byte[4096];
    private byte[] _stepPayload = [];
    private byte[] _completedPayload = [];

    [GlobalSetup]
    public void Setup()
    {
        var length = EncodeStep();
        _stepPayload = _buffer[FrameHeader.Size..length];
        length = EncodeCompleted();
        _completedPayload = _buffer[FrameHeader.Size..length];
    }

    [Benchmark]
    public int EncodeStep()
    {
        var encoder = new StepEncoder(_buffer);
        encoder.CopyIn(1, 0, 2, 0, 16384);
        encoder.CopyIn(1, 16384, 3, 0, 16384);
        encoder.Launch(4, 16, 1, 1, 256, 1, 1);
        encoder.BufferArgument(3);
        encoder.BufferArgument(2);
        encoder.Argument(0.5f);
        encoder.Argument(4096UL);
        encoder.CopyOut(3, 0, 1, 16384, 16384);
        return encoder.Finish(requestId: 7);
    }

    [Benchmark]
    public ulong DecodeStep()
    {
        var decoder = new StepDecoder(_stepPayload);
        ulong sum = 0;
        while (decoder.TryReadOp(out var op))
        {
            sum += op.Bytes;
            for (var i = 0; i < op.ArgumentCount; i++)
            {
                sum += decoder.ReadArgument().Bits;
            }
        }

        return sum;
    }

    [Benchmark]
    public int EncodeCompleted() =>
        Message.Encode(_buffer, MessageType.StepCompleted, 7, new StepCompleted(ErrorCode.None, 1_000, 2_000, 3_000, string.Empty));

    [Benchmark]
    public long DecodeCompleted() => Message.Decode<StepCompleted>(_completedPayload).EndedAtNs;
}
