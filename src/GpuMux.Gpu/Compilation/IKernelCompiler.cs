namespace GpuMux.Gpu.Compilation;

/// <summary>Turns CUDA C into a loadable module for one architecture. Throws <see cref="CompileException"/> with the log.</summary>
internal interface IKernelCompiler
{
    /// <summary>Names the compiler and its version; part of the cache key, so an upgrade recompiles.</summary>
    string Identity { get; }

    CompiledModule Compile(KernelSource source, ComputeCapability target);
}
