namespace GpuMux.Gpu;

public readonly record struct DeviceMemoryInfo(ulong FreeBytes, ulong TotalBytes)
{
    public ulong UsedBytes => TotalBytes - FreeBytes;
}
