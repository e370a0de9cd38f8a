namespace GpuMux.Gpu;

/// <summary>Kernel source that did not compile; <see cref="Log"/> is the compiler's own output.</summary>
public sealed class CompileException(string sourceName, string log, string compiler)
    : GpuException(GpuStatus.CompileFailed, $"{sourceName}: {compiler} compilation failed:\n{log}")
{
    public string SourceName { get; } = sourceName;

    public string Log { get; } = log;
}
