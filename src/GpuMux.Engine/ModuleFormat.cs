namespace GpuMux.Engine;

/// <summary>What the image given to <see cref="EngineSession.LoadModuleAsync(ModuleFormat, string, ReadOnlyMemory{byte}, CancellationToken)"/> holds. The values travel on the wire.</summary>
public enum ModuleFormat : byte
{
    /// <summary>CUDA C source (UTF-8), compiled for the device through the disk cache.</summary>
    CudaC = 1,
    Ptx = 2,
    Cubin = 3,
}

/// <summary>A loaded module's handle; whether the compiled image came from the disk cache; the compiler's log (warnings), empty if none.</summary>
public readonly record struct ModuleLoadResult(uint Module, bool FromCache, string CompileLog);
