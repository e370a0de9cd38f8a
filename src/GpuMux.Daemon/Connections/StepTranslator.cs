using GpuMux.Engine;
using GpuMux.Gpu;
using GpuMux.Protocol.Messages;

namespace GpuMux.Daemon.Connections;

/// <summary>
/// Turns a SubmitStep payload into an engine step. The payload is walked once to check that it
/// decodes, before a pooled step is taken, so a malformed frame never leaves a step half filled.
/// </summary>
internal static class StepTranslator
{
    /// <summary>Throws <see cref="GpuMux.Protocol.Framing.MalformedPayloadException"/> if the payload does not decode.</summary>
    public static void Check(ReadOnlySpan<byte> payload) => Walk(payload, null);

    public static void Fill(ReadOnlySpan<byte> payload, Step step) => Walk(payload, step);

    private static void Walk(ReadOnlySpan<byte> payload, Step? step)
    {
        var decoder = new StepDecoder(payload);
        while (decoder.TryReadOp(out var op))
        {
            switch (op.Kind)
            {
                case StepOpKind.UseModel:
                    step?.UseModel(op.Model);
                    break;
                case StepOpKind.Schedule when step is not null:
                    Schedule(step, op);
                    break;
                case StepOpKind.CopyIn:
                    step?.AddCopyIn(op.Region, op.RegionOffset, op.Buffer, op.BufferOffset, op.Bytes);
                    break;
                case StepOpKind.CopyOut:
                    step?.AddCopyOut(op.Buffer, op.BufferOffset, op.Region, op.RegionOffset, op.Bytes);
                    break;
                case StepOpKind.Launch:
                    step?.AddLaunch(op.Function, new Dim3(op.GridX, op.GridY, op.GridZ), new Dim3(op.BlockX, op.BlockY, op.BlockZ), op.SharedMemoryBytes);
                    for (var i = 0; i < op.ArgumentCount; i++)
                    {
                        var argument = decoder.ReadArgument();
                        if (step is not null)
                        {
                            AddArgument(step, argument);
                        }
                    }

                    break;
            }
        }
    }

    private static void Schedule(Step step, StepOp op)
    {
        // fail_if_late without a deadline has nothing to be late for.
        if (op.DeadlineNs != 0)
        {
            step.SetDeadline(op.DeadlineNs, op.Flags.HasFlag(ScheduleFlags.FailIfLate));
        }

        if (op.Flags.HasFlag(ScheduleFlags.EndsRequest))
        {
            step.EndRequest();
        }
    }

    private static void AddArgument(Step step, LaunchArgument argument)
    {
        switch (argument.Kind)
        {
            case ArgumentKind.Buffer:
                step.AddBufferArgument(argument.Handle, argument.Offset);
                break;
            case ArgumentKind.Tensor:
                step.AddTensorArgument(argument.Handle, argument.Offset);
                break;
            case ArgumentKind.Int32:
                step.AddScalarArgument(argument.AsInt32);
                break;
            case ArgumentKind.UInt32:
                step.AddScalarArgument(argument.AsUInt32);
                break;
            case ArgumentKind.Int64:
                step.AddScalarArgument(argument.AsInt64);
                break;
            case ArgumentKind.UInt64:
                step.AddScalarArgument(argument.Bits);
                break;
            case ArgumentKind.Float32:
                step.AddScalarArgument(argument.AsFloat32);
                break;
            case ArgumentKind.Float64:
                step.AddScalarArgument(argument.AsFloat64);
                break;
        }
    }
}
