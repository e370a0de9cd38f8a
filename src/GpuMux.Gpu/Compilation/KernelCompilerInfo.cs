namespace GpuMux.Gpu.Compilation;

/// <summary>
/// The compiler a backend turns CUDA C into modules with, as operators need to see it: its name,
/// and either its version and the file it was loaded from, or why there is none to use.
/// </summary>
public sealed record KernelCompilerInfo
{
    public required string Name { get; init; }

    /// <summary>Null where the compiler is unavailable.</summary>
    public Version? Version { get; init; }

    /// <summary>The library as the loader was given it: a soname, or a path in a toolkit directory.</summary>
    public string? LoadedFrom { get; init; }

    /// <summary>Why CUDA C cannot be compiled (PTX and cubins still load); null where it can.</summary>
    public string? UnavailableReason { get; init; }
}
