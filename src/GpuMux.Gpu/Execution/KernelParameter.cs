namespace GpuMux.Gpu;

/// <summary>
/// One parameter of a kernel as the device reads it from the launch's parameter block: where it
/// lies and how many bytes it takes. This is what <c>cuFuncGetParamInfo</c> reports.
/// </summary>
public readonly record struct KernelParameter(ulong Offset, ulong Size)
{
    /// <summary>
    /// The parameters of a kernel declared with these argument kinds, each at the next offset
    /// aligned to its size, as the compiler lays out scalars and pointers.
    /// </summary>
    public static KernelParameter[] LayOut(ReadOnlySpan<KernelArgumentKind> kinds)
    {
        var parameters = new KernelParameter[kinds.Length];
        ulong offset = 0;
        for (var i = 0; i < kinds.Length; i++)
        {
            var size = (ulong)KernelArgument.SizeOf(kinds[i]);
            offset = (offset + size - 1) / size * size;
            parameters[i] = new KernelParameter(offset, size);
            offset += size;
        }
        return parameters;
    }
}
