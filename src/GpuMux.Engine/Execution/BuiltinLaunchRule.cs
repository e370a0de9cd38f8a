using GpuMux.Engine.Models;
using GpuMux.Engine.Sessions;
using GpuMux.Gpu;
using GpuMux.Gpu.Kernels;

namespace GpuMux.Engine.Execution;

/// <summary>
/// How a launch of one built-in kernel (module 0) must be given: an argument of the declared
/// kind for each parameter, a buffer or a tensor of the step for every pointer (a buffer for every
/// pointer it writes through), never a raw integer, and counts that keep each pointer's footprint inside its buffer or tensor, aligned
/// for the kernel's loads. All sessions share one context, so a built-in given a raw address, or
/// a count past its buffer, would read or write whatever lies there: another session's memory.
/// </summary>
internal sealed class BuiltinLaunchRule
{
    private static readonly Dictionary<string, BuiltinLaunchRule> Rules = BuiltinSignatures.ByName.ToDictionary(
        kernel => kernel.Key,
        kernel => new BuiltinLaunchRule(kernel.Key, kernel.Value, BuiltinFootprints.ByName[kernel.Key]),
        StringComparer.Ordinal);

    private readonly string _kernel;
    private readonly KernelArgumentKind[] _parameters;
    private readonly PointerFootprint[] _footprints;

    private BuiltinLaunchRule(string kernel, KernelArgumentKind[] parameters, PointerFootprint[] footprints)
    {
        _kernel = kernel;
        _parameters = parameters;
        _footprints = footprints;
    }

    /// <summary>The rule of the built-in kernel <paramref name="name"/>; null for a name module 0 does not have.</summary>
    public static BuiltinLaunchRule? For(string name) => Rules.GetValueOrDefault(name);

    /// <summary>
    /// Checks arguments whose handles <see cref="StepValidator"/> has already found to be the
    /// session's (buffers) and the step's model's (tensors).
    /// </summary>
    public EngineError Validate(ReadOnlySpan<StepArgument> arguments, SessionState session, Model? model, out string? message)
    {
        if (arguments.Length != _parameters.Length)
        {
            message = $"{_kernel} takes {_parameters.Length} argument{(_parameters.Length == 1 ? "" : "s")}, not {arguments.Length}";
            return EngineError.InvalidArgument;
        }
        for (var k = 0; k < arguments.Length; k++)
        {
            var isPointer = _parameters[k] == KernelArgumentKind.Pointer;
            if (isPointer && arguments[k].Kind != KernelArgumentKind.Pointer)
            {
                message = $"argument {k} of {_kernel} is a pointer: give a buffer or a tensor, not a {arguments[k].Kind} value";
                return EngineError.InvalidArgument;
            }
            if (!isPointer && (arguments[k].Kind == KernelArgumentKind.Pointer || KernelArgument.SizeOf(arguments[k].Kind) != KernelArgument.SizeOf(_parameters[k])))
            {
                message = $"argument {k} of {_kernel} is a {_parameters[k]}, not a {(arguments[k].Kind == KernelArgumentKind.Pointer ? "buffer or tensor" : arguments[k].Kind)}";
                return EngineError.InvalidArgument;
            }
        }
        foreach (var footprint in _footprints)
        {
            var error = ValidateFootprint(footprint, arguments, session, model, out message);
            if (error != EngineError.None)
            {
                return error;
            }
        }
        message = null;
        return EngineError.None;
    }

    private EngineError ValidateFootprint(in PointerFootprint footprint, ReadOnlySpan<StepArgument> arguments, SessionState session, Model? model, out string? message)
    {
        var pointer = arguments[footprint.Parameter];
        if (footprint.Writes && pointer.IsTensor)
        {
            // Weights are immutable: their pinned copy is the truth, and an eviction would silently drop the write.
            message = $"argument {footprint.Parameter} of {_kernel} is written, and tensor {pointer.Handle} is a model's weights, which no step may change";
            return EngineError.InvalidArgument;
        }
        var bytes = footprint.Bytes(
            CountAt(arguments, footprint.FirstCount),
            CountAt(arguments, footprint.SecondCount),
            CountAt(arguments, footprint.ThirdCount),
            CountAt(arguments, footprint.FourthCount));
        var (length, start) = pointer.IsTensor ? Tensor(model!, pointer.Handle) : Buffer(session, pointer.Handle);
        if (pointer.Bits > length || bytes > length - pointer.Bits)
        {
            message = $"argument {footprint.Parameter} of {_kernel} reaches {bytes} bytes from offset {pointer.Bits}, past the end of {Name(pointer)} of {length} bytes";
            return EngineError.InvalidArgument;
        }
        if ((start + pointer.Bits) % footprint.Alignment != 0)
        {
            message = $"argument {footprint.Parameter} of {_kernel} must be {footprint.Alignment}-byte aligned; offset {pointer.Bits} into {Name(pointer)} is not";
            return EngineError.InvalidArgument;
        }
        message = null;
        return EngineError.None;
    }

    /// <summary>A scalar argument as the kernel reads it: only as many bits as its parameter has.</summary>
    private ulong CountAt(ReadOnlySpan<StepArgument> arguments, int index) =>
        index < 0 ? 1
        : KernelArgument.SizeOf(_parameters[index]) == sizeof(uint) ? (uint)arguments[index].Bits
        : arguments[index].Bits;

    private static (ulong Length, ulong Start) Buffer(SessionState session, uint handle)
    {
        session.Buffers.TryGet(handle, out var buffer);
        // A buffer starts on a page of the device pool, aligned for any load.
        return (buffer!.Length, 0);
    }

    private static (ulong Length, ulong Start) Tensor(Model model, uint tensor)
    {
        var index = (int)(tensor - model.FirstTensor);
        // The model's range starts on a page, so the tensor's alignment is that of its place in the file's data.
        return (model.Layout.BytesOf(index), model.Layout.BeginOf(index));
    }

    private static string Name(in StepArgument pointer) => pointer.IsTensor ? $"tensor {pointer.Handle}" : $"buffer {pointer.Handle}";
}
