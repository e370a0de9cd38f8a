namespace GpuMux.Gpu;

public readonly record struct LaunchConfig(Dim3 Grid, Dim3 Block, uint SharedMemoryBytes = 0)
{
    /// <summary>
    /// A one-dimensional launch covering <paramref name="elements"/> with blocks of
    /// <paramref name="blockSize"/> threads, capped at <paramref name="maxBlocks"/>: the
    /// built-in kernels loop over the remainder with a grid stride.
    /// </summary>
    public static LaunchConfig Linear(ulong elements, uint blockSize, uint maxBlocks)
    {
        var blocks = Math.Clamp((elements + blockSize - 1) / blockSize, 1UL, maxBlocks);
        return new LaunchConfig((uint)blocks, blockSize);
    }
}
