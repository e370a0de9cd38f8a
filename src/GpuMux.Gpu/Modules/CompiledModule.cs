namespace GpuMux.Gpu;

/// <summary>The product of compiling a <see cref="KernelSource"/>, and whether the disk cache supplied it.</summary>
public sealed record CompiledModule(ModuleImage Image, string Log, bool FromCache);
