using GpuMux.Gpu;

namespace GpuMux.Engine.Execution;

internal enum StepOpKind : byte
{
    CopyIn,
    CopyOut,
    Launch,
}

/// <summary>
/// One op of a step, as the client gave it: handles and offsets, resolved against the session
/// only on the engine thread. A copy uses the region and buffer fields, a launch the others;
/// its arguments are <see cref="ArgumentCount"/> entries of the step's argument list from
/// <see cref="FirstArgument"/>.
/// </summary>
internal readonly record struct StepOp
{
    public StepOpKind Kind { get; init; }

    public uint Region { get; init; }

    public ulong RegionOffset { get; init; }

    public uint Buffer { get; init; }

    public ulong BufferOffset { get; init; }

    public ulong Bytes { get; init; }

    public uint Function { get; init; }

    public LaunchConfig Config { get; init; }

    public int FirstArgument { get; init; }

    public int ArgumentCount { get; init; }

    public string Describe(int index) => Kind switch
    {
        StepOpKind.CopyIn => $"op {index} (copy in)",
        StepOpKind.CopyOut => $"op {index} (copy out)",
        _ => $"op {index} (launch of function {Function})",
    };
}

/// <summary>
/// A launch argument as the client gave it: a scalar's kind and bits, or, with kind
/// <see cref="KernelArgumentKind.Pointer"/>, a buffer handle (or, with <see cref="IsTensor"/>,
/// a tensor handle of the step's model) and an offset into it (in <see cref="Bits"/>) that
/// become a device pointer at dispatch. Clients never pass raw pointers.
/// </summary>
internal readonly record struct StepArgument(KernelArgumentKind Kind, ulong Bits, uint Handle, bool IsTensor)
{
    public bool IsBuffer => Kind == KernelArgumentKind.Pointer && !IsTensor;
}

/// <summary>A way the daemon filled a step that makes it invalid; reported when the step is submitted.</summary>
internal enum StepDefect : byte
{
    None,
    TooManyOps,
    ArgumentWithoutLaunch,
    TooManyArguments,
    SecondModel,
    NoSuchModel,
}
