namespace GpuMux.Cli.Devices;

/// <summary>What <c>gpumuxctl devices</c> found: the backend, and each device with its self-check.</summary>
internal sealed record DevicesReport(BackendReport Backend, IReadOnlyList<DeviceReport> Devices)
{
    public bool Passed => Devices.All(d => d.Passed);
}

/// <param name="FallbackReason">Why CUDA was not used, where the Sim backend stands in for it.</param>
internal sealed record BackendReport(string Kind, string Description, bool Simulated, string? FallbackReason);

/// <param name="FreeMemoryBytes">Read from a context; null where none could be opened.</param>
/// <param name="Error">Why the device could not be checked at all.</param>
internal sealed record DeviceReport(
    int Ordinal,
    string Name,
    string ComputeCapability,
    ulong TotalMemoryBytes,
    ulong? FreeMemoryBytes,
    int MultiprocessorCount,
    string PciBusId,
    StreamPriorities? StreamPriorities,
    bool Simulated,
    IReadOnlyList<CheckResult> Checks,
    string? Error)
{
    public bool Passed => Error is null && Checks.All(c => c.Passed);
}

/// <summary>CUDA's numbering: the greatest priority is the lowest number.</summary>
internal sealed record StreamPriorities(int Greatest, int Least);

/// <param name="ElapsedMilliseconds">Device time between two events; simulated on the Sim backend.</param>
internal sealed record CheckResult(string Name, bool Passed, string? Detail, double? ElapsedMilliseconds, double? GigabytesPerSecond);
