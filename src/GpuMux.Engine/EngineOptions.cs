namespace GpuMux.Engine;

/// <summary>Limits the engine enforces per session, and the device it runs on.</summary>
public sealed record EngineOptions
{
    public int DeviceOrdinal { get; init; }

    /// <summary>Steps a session may have submitted and not yet completed; one more fails with <see cref="EngineError.TooManyInFlight"/>.</summary>
    public int MaxInFlightStepsPerSession { get; init; } = 64;

    /// <summary>Device bytes a session's buffers may hold in all; 0 leaves only the device's capacity as the limit.</summary>
    public ulong MaxBufferBytesPerSession { get; init; }

    public int MaxBuffersPerSession { get; init; } = 1024;

    public int MaxRegionsPerSession { get; init; } = 64;

    public ulong MaxRegionBytes { get; init; } = 16UL << 30;

    public int MaxModulesPerSession { get; init; } = 64;

    public int MaxOpsPerStep { get; init; } = 256;

    internal void Validate()
    {
        ArgumentOutOfRangeException.ThrowIfNegative(DeviceOrdinal);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(MaxInFlightStepsPerSession);
        ArgumentOutOfRangeException.ThrowIfNegative(MaxBuffersPerSession);
        ArgumentOutOfRangeException.ThrowIfNegative(MaxRegionsPerSession);
        ArgumentOutOfRangeException.ThrowIfNegative(MaxModulesPerSession);
        ArgumentOutOfRangeException.ThrowIfNegative(MaxOpsPerStep);
    }
}
