using GpuMux.Protocol.Framing;
using GpuMux.Protocol.Messages;

namespace GpuMux.Protocol.Tests.Messages;

public sealed class StepCodecTests
{
    [Fact]
    public void Every_op_and_argument_kind_round_trips()
    {
        var buffer = new byte[512];
        var encoder = new StepEncoder(buffer);
        encoder.CopyIn(1, 16, 2, 32, 1024);
        encoder.Launch(3, 4, 5, 6, 128, 2, 1, 256);
        encoder.BufferArgument(2, 8);
        encoder.Argument(-7);
        encoder.Argument(7u);
        encoder.Argument(-8L);
        encoder.Argument(8UL);
        encoder.Argument(1.5f);
        encoder.Argument(-2.25);
        encoder.CopyOut(2, 0, 1, 2048, 512);
        var length = encoder.Finish(requestId: 99);

        Assert.True(FrameHeader.TryRead(buffer, out var header));
        Assert.Equal((ushort)MessageType.SubmitStep, header.Type);
        Assert.Equal(99u, header.RequestId);
        var decoder = new StepDecoder(buffer.AsSpan(FrameHeader.Size, length - FrameHeader.Size));
        Assert.Equal(3, decoder.OpCount);

        Assert.True(decoder.TryReadOp(out var copyIn));
        Assert.Equal((StepOpKind.CopyIn, 1u, 16UL, 2u, 32UL, 1024UL), (copyIn.Kind, copyIn.Region, copyIn.RegionOffset, copyIn.Buffer, copyIn.BufferOffset, copyIn.Bytes));

        Assert.True(decoder.TryReadOp(out var launch));
        Assert.Equal((StepOpKind.Launch, 3u, 4u, 5u, 6u, 128u, 2u, 1u, 256u, (byte)7),
            (launch.Kind, launch.Function, launch.GridX, launch.GridY, launch.GridZ, launch.BlockX, launch.BlockY, launch.BlockZ, launch.SharedMemoryBytes, launch.ArgumentCount));
        var buffer0 = decoder.ReadArgument();
        Assert.Equal((ArgumentKind.Buffer, 2u, 8UL), (buffer0.Kind, buffer0.Handle, buffer0.Offset));
        Assert.Equal(-7, decoder.ReadArgument().AsInt32);
        Assert.Equal(7u, decoder.ReadArgument().AsUInt32);
        Assert.Equal(-8L, decoder.ReadArgument().AsInt64);
        Assert.Equal(8UL, decoder.ReadArgument().Bits);
        Assert.Equal(1.5f, decoder.ReadArgument().AsFloat32);
        Assert.Equal(-2.25, decoder.ReadArgument().AsFloat64);

        Assert.True(decoder.TryReadOp(out var copyOut));
        Assert.Equal((StepOpKind.CopyOut, 1u, 2048UL, 2u, 0UL, 512UL), (copyOut.Kind, copyOut.Region, copyOut.RegionOffset, copyOut.Buffer, copyOut.BufferOffset, copyOut.Bytes));
        Assert.False(decoder.TryReadOp(out _));
    }

    [Fact]
    public void A_step_bound_to_a_model_names_it_first_and_its_tensors_as_arguments()
    {
        var buffer = new byte[256];
        var encoder = new StepEncoder(buffer);
        encoder.UseModel(5);
        encoder.Launch(3, 1, 1, 1, 32, 1, 1);
        encoder.TensorArgument(9, 64);
        var length = encoder.Finish(requestId: 1);

        var decoder = new StepDecoder(buffer.AsSpan(FrameHeader.Size, length - FrameHeader.Size));
        Assert.True(decoder.TryReadOp(out var use));
        Assert.Equal((StepOpKind.UseModel, 5u), (use.Kind, use.Model));
        Assert.True(decoder.TryReadOp(out var launch));
        Assert.Equal(1, launch.ArgumentCount);
        Assert.Equal(new LaunchArgument(ArgumentKind.Tensor, 9, 64), decoder.ReadArgument());
        Assert.False(decoder.TryReadOp(out _));
    }

    [Fact]
    public void Schedule_round_trips_before_or_after_UseModel()
    {
        foreach (var scheduleFirst in new[] { true, false })
        {
            var buffer = new byte[256];
            var encoder = new StepEncoder(buffer);
            if (scheduleFirst)
            {
                encoder.Schedule(123_456_789, ScheduleFlags.FailIfLate | ScheduleFlags.EndsRequest);
                encoder.UseModel(5);
            }
            else
            {
                encoder.UseModel(5);
                encoder.Schedule(123_456_789, ScheduleFlags.FailIfLate | ScheduleFlags.EndsRequest);
            }

            encoder.CopyIn(1, 0, 2, 0, 64);
            var length = encoder.Finish(requestId: 1);

            var ops = DecodeOps(buffer.AsSpan(FrameHeader.Size, length - FrameHeader.Size).ToArray());
            var schedule = Assert.Single(ops, op => op.Kind == StepOpKind.Schedule);
            Assert.Equal((123_456_789L, ScheduleFlags.FailIfLate | ScheduleFlags.EndsRequest), (schedule.DeadlineNs, schedule.Flags));
            Assert.Equal(5u, Assert.Single(ops, op => op.Kind == StepOpKind.UseModel).Model);
            Assert.Equal(StepOpKind.CopyIn, ops[^1].Kind);
        }
    }

    [Fact]
    public void A_schedule_op_is_a_kind_an_i64_deadline_and_a_flags_byte()
    {
        var buffer = new byte[64];
        var encoder = new StepEncoder(buffer);
        encoder.Schedule(0x0102030405060708, ScheduleFlags.EndsRequest);
        var length = encoder.Finish(requestId: 1);

        Assert.Equal([0, 0, 1, 0, 5, 8, 7, 6, 5, 4, 3, 2, 1, 2], buffer[FrameHeader.Size..length]);
    }

    [Theory]
    [InlineData(new byte[] { 0, 0, 1, 0, 5, 0, 0, 0, 0, 0, 0, 0, 0, 4 }, "flags 0x04")]
    [InlineData(new byte[] { 0, 0, 1, 0, 5, 0, 0, 0, 0, 0, 0, 0, 0, 0x81 }, "flags 0x81")]
    [InlineData(new byte[] { 0, 0, 1, 0, 5, 0, 0, 0, 0, 0, 0, 0, 0x80, 0 }, "negative")]
    [InlineData(new byte[] { 0, 0, 2, 0, 5, 0, 0, 0, 0, 0, 0, 0, 0, 0, 5, 0, 0, 0, 0, 0, 0, 0, 0, 0 }, "at most one Schedule")]
    [InlineData(new byte[] { 0, 0, 2, 0, 4, 1, 0, 0, 0, 4, 2, 0, 0, 0 }, "at most one UseModel")]
    [InlineData(new byte[] { 0, 0, 1, 0, 5, 0, 0, 0, 0, 0, 0, 0 }, "short")]
    public void A_bad_schedule_or_model_op_is_malformed(byte[] payload, string reason)
    {
        var error = Assert.Throws<MalformedPayloadException>(() => DecodeAll(payload));
        Assert.Contains(reason, error.Message);
    }

    [Theory]
    [InlineData(StepOpKind.Schedule)]
    [InlineData(StepOpKind.UseModel)]
    public void Schedule_and_UseModel_after_a_copy_or_launch_are_malformed_and_cannot_be_encoded(StepOpKind kind)
    {
        var buffer = new byte[256];
        var encoder = new StepEncoder(buffer);
        encoder.CopyIn(1, 0, 2, 0, 4);
        var copyOnly = buffer[FrameHeader.Size..encoder.Finish(1)];
        byte[] leading = kind == StepOpKind.Schedule ? [5, 0, 0, 0, 0, 0, 0, 0, 0, 0] : [4, 1, 0, 0, 0];
        byte[] payload = [0, 0, 2, 0, .. copyOnly[4..], .. leading];

        var error = Assert.Throws<MalformedPayloadException>(() => DecodeAll(payload));
        Assert.Contains($"{kind} must come before the step's first copy or launch", error.Message);
        Assert.Throws<InvalidOperationException>(() =>
        {
            var late = new StepEncoder(new byte[128]);
            late.Launch(3, 1, 1, 1, 32, 1, 1);
            if (kind == StepOpKind.Schedule)
            {
                late.Schedule(1, ScheduleFlags.None);
            }
            else
            {
                late.UseModel(1);
            }
        });
    }

    [Fact]
    public void The_encoder_refuses_a_second_schedule_unknown_flags_and_a_negative_deadline()
    {
        Assert.Throws<InvalidOperationException>(() =>
        {
            var encoder = new StepEncoder(new byte[64]);
            encoder.Schedule(1, ScheduleFlags.None);
            encoder.Schedule(2, ScheduleFlags.None);
        });
        Assert.Throws<ArgumentException>(() => new StepEncoder(new byte[64]).Schedule(1, (ScheduleFlags)4));
        Assert.Throws<ArgumentOutOfRangeException>(() => new StepEncoder(new byte[64]).Schedule(-1, ScheduleFlags.None));
    }

    [Fact]
    public void An_empty_step_is_four_bytes_of_payload()
    {
        var buffer = new byte[64];

        var length = new StepEncoder(buffer).Finish(requestId: 1);

        Assert.Equal(FrameHeader.Size + 4, length);
        var decoder = new StepDecoder(buffer.AsSpan(FrameHeader.Size, 4));
        Assert.False(decoder.TryReadOp(out _));
    }

    [Theory]
    [InlineData(new byte[] { 1, 0, 0, 0 }, "flags")]
    [InlineData(new byte[] { 0, 0, 1, 0, 9 }, "unknown kind 9")]
    [InlineData(new byte[] { 0, 0, 1, 0, 2, 1, 0, 0, 0, 1, 0, 0, 0, 1, 0, 0, 0, 1, 0, 0, 0, 1, 0, 0, 0, 1, 0, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0, 1, 42 }, "argument has unknown kind 42")]
    [InlineData(new byte[] { 0, 0, 2, 0 }, "short")]
    [InlineData(new byte[] { 0, 0, 0, 0, 1 }, "follow")]
    public void A_bad_step_payload_is_malformed(byte[] payload, string reason)
    {
        var error = Assert.Throws<MalformedPayloadException>(() => DecodeAll(payload));
        Assert.Contains(reason, error.Message);
    }

    [Fact]
    public void Every_truncation_of_a_valid_step_is_malformed()
    {
        var buffer = new byte[512];
        var encoder = new StepEncoder(buffer);
        encoder.CopyIn(1, 0, 2, 0, 64);
        encoder.Launch(3, 1, 1, 1, 32, 1, 1, 0);
        encoder.BufferArgument(2);
        encoder.Argument(2.0f);
        encoder.CopyOut(2, 0, 1, 0, 64);
        var payload = buffer.AsSpan(FrameHeader.Size, encoder.Finish(1) - FrameHeader.Size).ToArray();

        for (var cut = 0; cut < payload.Length; cut++)
        {
            var truncated = payload[..cut];
            Assert.Throws<MalformedPayloadException>(() => DecodeAll(truncated));
        }
    }

    [Fact]
    public void Thousands_of_mutated_payloads_decode_or_are_malformed_and_nothing_else()
    {
        var random = new Random(20261123);
        var buffer = new byte[512];
        var encoder = new StepEncoder(buffer);
        encoder.CopyIn(1, 0, 2, 0, 64);
        encoder.Launch(3, 1, 1, 1, 32, 1, 1, 0);
        encoder.BufferArgument(2);
        encoder.Argument(7UL);
        encoder.CopyOut(2, 0, 1, 0, 64);
        var valid = buffer.AsSpan(FrameHeader.Size, encoder.Finish(1) - FrameHeader.Size).ToArray();

        var malformed = 0;
        for (var i = 0; i < 5000; i++)
        {
            var mutated = Mutate(valid, random);
            try
            {
                DecodeAll(mutated);
            }
            catch (MalformedPayloadException)
            {
                malformed++;
            }
        }

        Assert.InRange(malformed, 1, 4999);
    }

    private static byte[] Mutate(byte[] valid, Random random)
    {
        var mutated = valid.ToList();
        for (var edits = random.Next(1, 4); edits > 0; edits--)
        {
            var at = random.Next(mutated.Count);
            switch (random.Next(3))
            {
                case 0:
                    mutated[at] = (byte)random.Next(256);
                    break;
                case 1:
                    mutated.RemoveAt(at);
                    break;
                default:
                    mutated.Insert(at, (byte)random.Next(256));
                    break;
            }
        }

        return [.. mutated];
    }

    private static void DecodeAll(byte[] payload) => DecodeOps(payload);

    private static List<StepOp> DecodeOps(byte[] payload)
    {
        var ops = new List<StepOp>();
        var decoder = new StepDecoder(payload);
        while (decoder.TryReadOp(out var op))
        {
            ops.Add(op);
            for (var i = 0; i < op.ArgumentCount; i++)
            {
                decoder.ReadArgument();
            }
        }

        return ops;
    }
}
