using GpuMux.Gpu;
using GpuMux.Gpu.Compilation;

namespace GpuMux.Cli.Devices;

/// <summary>What <c>gpumuxctl devices</c> found: the backend, and each device with its self-check.</summary>
internal sealed record DevicesReport(BackendReport Backend, IReadOnlyList<DeviceReport> Devices)
{
    public bool Passed => Devices.All(d => d.Passed);
}

/// <param name="FallbackReason">Why CUDA was not used, where the Sim backend stands in for it.</param>
/// <param name="DriverVersion">The CUDA version the driver supports, e.g. "12.4"; null on the Sim.</param>
/// <param name="Compiler">What compiles CUDA C; null on the Sim.</param>
internal sealed record BackendReport(string Kind, string Description, bool Simulated, string? FallbackReason, string? DriverVersion, CompilerReport? Compiler)
{
    public static BackendReport From(BackendSelection selection)
    {
        var backend = selection.Backend;
        return new BackendReport(
            backend.Kind.ToString().ToLowerInvariant(),
            backend.Description,
            backend.Kind == GpuBackendKind.Sim,
            selection.CudaUnavailableReason,
            backend.DriverVersion?.ToString(),
            backend.Compiler is { } compiler ? CompilerReport.From(compiler) : null);
    }
}

/// <param name="Version">Null where the compiler is unavailable, and then <paramref name="UnavailableReason"/> says why.</param>
/// <param name="Path">The library as it was loaded: a soname the loader found, or a path in a toolkit directory.</param>
internal sealed record CompilerReport(string Name, string? Version, string? Path, string? UnavailableReason)
{
    public static CompilerReport From(KernelCompilerInfo compiler) =>
        new(compiler.Name, compiler.Version?.ToString(), compiler.LoadedFrom, compiler.UnavailableReason);
}

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
