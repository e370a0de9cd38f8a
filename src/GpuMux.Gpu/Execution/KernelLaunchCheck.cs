namespace GpuMux.Gpu;

/// <summary>
/// Matches a launch's arguments with the kernel's parameters before any backend sees them. The
/// driver copies each parameter's size in bytes from the pointer it is given for it, and takes as
/// many pointers as the kernel has parameters: an argument too few or too narrow would make it
/// read past what the launch passed, in the daemon's own memory.
/// </summary>
internal static class KernelLaunchCheck
{
    /// <summary>Throws unless <paramref name="arguments"/> match <paramref name="parameters"/> (null: unknown) of <paramref name="kernel"/> one for one, in size.</summary>
    public static void Check(string kernel, IReadOnlyList<KernelParameter>? parameters, ReadOnlySpan<KernelArgument> arguments)
    {
        if (parameters is null)
        {
            throw new GpuException(
                GpuStatus.NotSupported,
                $"kernel {kernel} cannot be launched: the driver cannot report its parameters (cuFuncGetParamInfo needs CUDA 12.4), so nothing could stop it reading past the arguments");
        }
        if (arguments.Length != parameters.Count)
        {
            throw new GpuException(GpuStatus.InvalidValue, $"kernel {kernel} takes {parameters.Count} arguments, the launch passed {arguments.Length}");
        }
        for (var i = 0; i < arguments.Length; i++)
        {
            if ((ulong)arguments[i].Size != parameters[i].Size)
            {
                throw new GpuException(
                    GpuStatus.InvalidValue,
                    $"parameter {i} of kernel {kernel} is {parameters[i].Size} bytes, the launch passed a {arguments[i].Size}-byte {arguments[i].Kind}");
            }
        }
    }
}
