using GpuMux.Gpu;
using GpuMux.Gpu.Kernels;

namespace GpuMux.Engine.Sessions;

/// <summary>Module 0: the built-in kernels, loaded with the context and shared by every session.</summary>
internal static class BuiltinModule
{
    public const uint Handle = 0;

    public static IReadOnlyList<string> FunctionNames { get; } =
    [
        KernelNames.FillF32,
        KernelNames.AxpyF32,
        KernelNames.GemvF32,
        KernelNames.GemvF16,
        KernelNames.GemvBf16,
        KernelNames.Spin,
        KernelNames.Checksum,
    ];

    /// <summary>Compiles the built-ins for the context's device (through the disk cache) and loads them.</summary>
    public static LoadedModule Load(GpuContext context)
    {
        var module = new LoadedModule(BuiltinKernels.Source.Name, BuiltinKernels.Compile(context)) { IsBuiltin = true };
        module.Attach(context);
        return module;
    }
}
