namespace GpuMux.Gpu.Sim;

/// <summary>The checks CUDA makes of a launch configuration before queuing it, each an invalid-value error.</summary>
internal static class SimLaunchLimits
{
    public static void Check(GpuDeviceInfo device, string kernel, LaunchConfig config)
    {
        var (grid, block) = (config.Grid, config.Block);
        // Dimension by dimension: a volume of three u32 wraps, and (2^31, 2^31, 4) is no empty grid.
        if (HasZero(block) || HasZero(grid))
        {
            Fail(kernel, $"grid {grid} and block {block} must have no zero dimension");
        }
        if (block.X > device.MaxBlockDim.X || block.Y > device.MaxBlockDim.Y || block.Z > device.MaxBlockDim.Z)
        {
            Fail(kernel, $"block {block} exceeds the device's maximum {device.MaxBlockDim}");
        }
        if (block.Volume > (ulong)device.MaxThreadsPerBlock)
        {
            Fail(kernel, $"block {block} has {block.Volume} threads, the device allows {device.MaxThreadsPerBlock}");
        }
        if (grid.X > device.MaxGridDim.X || grid.Y > device.MaxGridDim.Y || grid.Z > device.MaxGridDim.Z)
        {
            Fail(kernel, $"grid {grid} exceeds the device's maximum {device.MaxGridDim}");
        }
        if (config.SharedMemoryBytes > device.MaxSharedMemoryPerBlock)
        {
            Fail(kernel, $"{config.SharedMemoryBytes} bytes of shared memory exceed the device's {device.MaxSharedMemoryPerBlock} per block");
        }
    }

    private static bool HasZero(Dim3 dimensions) => dimensions.X == 0 || dimensions.Y == 0 || dimensions.Z == 0;

    private static void Fail(string kernel, string reason) =>
        throw new GpuException(GpuStatus.InvalidValue, $"invalid launch of {kernel}: {reason}");
}
