namespace GpuMux.Gpu;

/// <summary>A device's 16-byte UUID in the form nvidia-smi, NVML and DCGM print, so labels join theirs.</summary>
public static class GpuUuid
{
    public static string Format(ReadOnlySpan<byte> uuid)
    {
        ArgumentOutOfRangeException.ThrowIfNotEqual(uuid.Length, 16, nameof(uuid));
        return $"GPU-{Convert.ToHexStringLower(uuid[..4])}-{Convert.ToHexStringLower(uuid[4..6])}-{Convert.ToHexStringLower(uuid[6..8])}-{Convert.ToHexStringLower(uuid[8..10])}-{Convert.ToHexStringLower(uuid[10..])}";
    }
}
