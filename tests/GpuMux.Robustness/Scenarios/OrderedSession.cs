using GpuMux.Protocol;
using GpuMux.Protocol.Messages;
using GpuMux.Robustness.Clients;
using GpuMux.Robustness.Fuzzing;

namespace GpuMux.Robustness.Scenarios;

/// <summary>What the sessions of <see cref="CompletionOrderScenario"/> count.</summary>
internal sealed record CompletionCounters(
    Counting.Counter Submitted,
    Counting.Counter Completed,
    Counting.Counter Lost,
    Counting.Counter Duplicated,
    Counting.Counter Unknown,
    Counting.Counter OutOfOrder,
    Counting.Counter Failed,
    Counting.Counter Wrong,
    Counting.Counter Hangs,
    Counting.Notes Notes);

/// <summary>
/// One session submitting steps with up to <c>window</c> in flight, each filling a buffer with a
/// value of its own and copying it into a slot of the region. Every completion is matched to its
/// step: it must come once, in submission order, with status 0 and the step's value in its slot.
/// </summary>
internal sealed class OrderedSession(RawConnection connection, int index, int steps, int window, CompletionCounters counters, Random random, TimeSpan bound, CancellationToken stop)
{
    private const int Floats = 64;
    private const ulong SlotBytes = Floats * sizeof(float);

    public async Task RunAsync()
    {
        using var region = new MappedRegion((ulong)window * SlotBytes);
        if (await RequestAsync(Frames.Hello(1, $"ordered-{index}"), []) is not { Type: MessageType.Welcome }
            || await RequestAsync(Frames.Encode(MessageType.RegisterRegion, 2, new SizeMessage(region.Length), 1), [region.File]) is not { Type: MessageType.RegionRegistered } registered
            || await RequestAsync(Frames.Encode(MessageType.AllocateBuffer, 3, new SizeMessage(SlotBytes)), []) is not { Type: MessageType.BufferAllocated } buffer
            || await RequestAsync(FuzzTemplates.GetFunction("fill_f32").Frame(4), []) is not { Type: MessageType.FunctionFound } fill
            || await RequestAsync(FuzzTemplates.GetFunction("spin").Frame(5), []) is not { Type: MessageType.FunctionFound } spin)
        {
            counters.Notes.Add("ordered session could not set up", $"session {index}");
            counters.Lost.Add(steps);
            return;
        }

        var regionHandle = registered.Decode<HandleMessage>().Handle;
        var bufferHandle = buffer.Decode<HandleMessage>().Handle;
        var fillHandle = fill.Decode<HandleMessage>().Handle;
        var spinHandle = spin.Decode<HandleMessage>().Handle;
        const uint FirstStepId = 100;
        var completed = new bool[steps];
        var oldest = 0;
        var next = 0;
        while (oldest < steps)
        {
            // A slot is reused only once the step that wrote it last has completed, whatever order completions come in.
            while (next < steps && (next < window || completed[next - window]))
            {
                var frame = Step(FirstStepId + (uint)next, regionHandle, bufferHandle, fillHandle, spinHandle, next);
                await connection.SendAsync(frame, stop);
                counters.Submitted.Add();
                next++;
            }

            Reply? reply;
            try
            {
                reply = await connection.ReadAsync(bound, stop);
            }
            catch (TimeoutException)
            {
                counters.Hangs.Add();
                counters.Notes.Add("ordered session hang", $"session {index}: no completion within {bound.TotalSeconds} s, {next - oldest} steps in flight");
                break;
            }

            if (reply is null)
            {
                counters.Notes.Add("ordered session closed by the daemon", $"session {index}, after {oldest} steps");
                break;
            }

            var step = (long)reply.RequestId - FirstStepId;
            if (reply.Type != MessageType.StepCompleted || step < 0 || step >= next)
            {
                counters.Unknown.Add();
                counters.Notes.Add("frame matching no step", $"session {index}: {reply}, request {reply.RequestId}");
                continue;
            }

            if (completed[step])
            {
                counters.Duplicated.Add();
                counters.Notes.Add("duplicated completion", $"session {index}, step {step}");
                continue;
            }

            if (step != oldest)
            {
                counters.OutOfOrder.Add();
                counters.Notes.Add("completion out of order", $"session {index}: step {step} completed while step {oldest} had not");
            }

            completed[step] = true;
            counters.Completed.Add();
            if (reply.Error is { } error)
            {
                counters.Failed.Add();
                counters.Notes.Add("step failed", $"session {index}, step {step}: {error}: {reply}");
            }
            else if (!Holds(region.Floats((ulong)(step % window) * SlotBytes, Floats), Tag(step)))
            {
                counters.Wrong.Add();
                counters.Notes.Add("wrong result", $"session {index}, step {step}: its slot does not hold {Tag(step)} throughout");
            }

            while (oldest < steps && oldest < next && completed[oldest])
            {
                oldest++;
            }
        }

        counters.Lost.Add(completed.Count(done => !done));
    }

    /// <summary>The value step <paramref name="step"/> writes: exact in a float, and different for every session and every step in a window.</summary>
    private float Tag(long step) => (index * 16384) + (step % 16384);

    private byte[] Step(uint id, uint regionHandle, uint bufferHandle, uint fillHandle, uint spinHandle, int step)
    {
        var spins = random.Next(8) == 0;
        var writer = new PayloadWriter().U16(0).U16((ushort)(spins ? 3 : 2));
        if (spins)
        {
            // A few microseconds on the device now and then, so that sessions' steps interleave differently.
            writer.U8(2).U32(spinHandle).U32(1).U32(1).U32(1).U32(1).U32(1).U32(1).U32(0).U8(1).U8(5).U64((ulong)random.Next(1, 50));
        }

        writer.U8(2).U32(fillHandle).U32(1).U32(1).U32(1).U32(64).U32(1).U32(1).U32(0).U8(3)
            .U8(1).U32(bufferHandle).U64(0)
            .U8(6).F32(Tag(step))
            .U8(5).U64(Floats)
            .U8(3).U32(bufferHandle).U64(0).U32(regionHandle).U64((ulong)(step % window) * SlotBytes).U64(SlotBytes);
        return writer.Build(MessageType.SubmitStep).Frame(id);
    }

    private static bool Holds(ReadOnlySpan<float> slot, float tag)
    {
        foreach (var value in slot)
        {
            if (value != tag)
            {
                return false;
            }
        }

        return true;
    }

    private Task<Reply?> RequestAsync(byte[] frame, System.Runtime.InteropServices.SafeHandle[] descriptors) =>
        connection.RequestAsync(frame, descriptors, bound, stop);
}
