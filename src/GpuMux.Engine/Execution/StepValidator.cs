using GpuMux.Engine.Models;
using GpuMux.Engine.Sessions;

namespace GpuMux.Engine.Execution;

/// <summary>
/// Checks a step against its session before anything of it reaches the device: every handle is
/// the session's, the model it is bound to too, every copy lies inside its region and its
/// buffer, every pointer argument inside its buffer or tensor, every tensor is one of the step's
/// model. A launch of a built-in kernel is checked whole here (<see cref="BuiltinLaunchRule"/>:
/// pointers are buffers or tensors, never raw integers, and stay inside them); any other
/// launch's arguments are checked against the kernel's parameters as it is issued, by
/// <see cref="Gpu.GpuStream.Launch"/>. Nothing is allocated unless the step is refused.
/// </summary>
internal static class StepValidator
{
    public static EngineError Validate(Step step, SessionState session, int maxOps, out string? message, out Model? model)
    {
        model = null;
        message = step.Defect switch
        {
            StepDefect.None => null,
            StepDefect.TooManyOps => $"the step has {step.RequestedOps} ops; a step may have at most {maxOps}",
            StepDefect.ArgumentWithoutLaunch => "a kernel argument was added with no launch before it; arguments follow their launch",
            StepDefect.SecondModel => "the step was bound to two models; a step uses at most one",
            StepDefect.NoSuchModel => "the step was bound to model 0, which is not a model of this session",
            _ => $"a launch has more than {Step.MaxArgumentsPerLaunch} arguments",
        };
        if (message is not null)
        {
            // Model 0 is a handle that names nothing, like any other the session does not have.
            return step.Defect == StepDefect.NoSuchModel ? EngineError.UnknownHandle : EngineError.InvalidArgument;
        }
        if (step.ModelHandle != 0 && !session.Models.TryGet(step.ModelHandle, out model))
        {
            message = $"model {step.ModelHandle} is not a model of this session";
            return EngineError.UnknownHandle;
        }
        var ops = step.Ops;
        for (var i = 0; i < ops.Length; i++)
        {
            var error = ops[i].Kind == StepOpKind.Launch
                ? ValidateLaunch(step, session, model, ops[i], i, out message)
                : ValidateCopy(session, ops[i], i, out message);
            if (error != EngineError.None)
            {
                return error;
            }
        }
        return EngineError.None;
    }

    private static EngineError ValidateCopy(SessionState session, in StepOp op, int index, out string? message)
    {
        if (!session.Regions.TryGet(op.Region, out var region))
        {
            message = $"{op.Describe(index)}: region {op.Region} is not a region of this session";
            return EngineError.UnknownHandle;
        }
        if (!session.Buffers.TryGet(op.Buffer, out var buffer))
        {
            message = $"{op.Describe(index)}: buffer {op.Buffer} is not a buffer of this session";
            return EngineError.UnknownHandle;
        }
        if (!Fits(op.RegionOffset, op.Bytes, region.Length))
        {
            message = $"{op.Describe(index)}: {op.Bytes} bytes at offset {op.RegionOffset} overrun region {op.Region} of {region.Length} bytes";
            return EngineError.InvalidArgument;
        }
        if (!Fits(op.BufferOffset, op.Bytes, buffer.Length))
        {
            message = $"{op.Describe(index)}: {op.Bytes} bytes at offset {op.BufferOffset} overrun buffer {op.Buffer} of {buffer.Length} bytes";
            return EngineError.InvalidArgument;
        }
        message = null;
        return EngineError.None;
    }

    private static EngineError ValidateLaunch(Step step, SessionState session, Model? model, in StepOp op, int index, out string? message)
    {
        if (!session.Functions.TryGet(op.Function, out var function))
        {
            message = $"{op.Describe(index)}: function {op.Function} is not a function of this session";
            return EngineError.UnknownHandle;
        }
        var arguments = step.ArgumentsOf(op);
        for (var k = 0; k < arguments.Length; k++)
        {
            var argument = arguments[k];
            if (argument.IsTensor)
            {
                var error = ValidateTensor(session, model, argument, out message);
                if (error != EngineError.None)
                {
                    message = $"{op.Describe(index)}, argument {k}: {message}";
                    return error;
                }
                continue;
            }
            if (!argument.IsBuffer)
            {
                continue;
            }
            if (!session.Buffers.TryGet(argument.Handle, out var buffer))
            {
                message = $"{op.Describe(index)}, argument {k}: buffer {argument.Handle} is not a buffer of this session";
                return EngineError.UnknownHandle;
            }
            if (argument.Bits >= buffer.Length)
            {
                message = $"{op.Describe(index)}, argument {k}: offset {argument.Bits} lies outside buffer {argument.Handle} of {buffer.Length} bytes";
                return EngineError.InvalidArgument;
            }
        }
        if (function.Builtin is { } rule)
        {
            var refused = rule.Validate(arguments, session, model, out message);
            if (refused != EngineError.None)
            {
                message = $"{op.Describe(index)}: {message}";
                return refused;
            }
        }
        message = null;
        return EngineError.None;
    }

    private static EngineError ValidateTensor(SessionState session, Model? model, in StepArgument argument, out string? message)
    {
        var tensor = argument.Handle;
        if (model is null)
        {
            message = $"tensor {tensor} is given, but the step is bound to no model (UseModel), so it names no tensor the step can use";
            return EngineError.UnknownHandle;
        }
        if (tensor < model.FirstTensor || tensor - model.FirstTensor >= (uint)model.Layout.TensorCount)
        {
            message = session.ModelOfTensor(tensor) is { } other
                ? $"tensor {tensor} is a tensor of model {other.Handle} ({other.Name}), not of model {model.Handle} ({model.Name}), the step's model"
                : $"tensor {tensor} is not a tensor of model {model.Handle} ({model.Name}), the step's model, nor of any other model of this session";
            return EngineError.UnknownHandle;
        }
        var bytes = model.Layout.BytesOf((int)(tensor - model.FirstTensor));
        if (argument.Bits >= bytes)
        {
            message = $"offset {argument.Bits} lies outside tensor {tensor} of {bytes} bytes";
            return EngineError.InvalidArgument;
        }
        message = null;
        return EngineError.None;
    }

    private static bool Fits(ulong offset, ulong bytes, ulong length) => bytes <= length && offset <= length - bytes;
}
