using System.Text;
using GpuMux.Gpu;
using GpuMux.Gpu.Compilation;

namespace GpuMux.Engine.Sessions;

/// <summary>What a compile needs of the device, taken on the engine thread so that the compile can run off it.</summary>
internal readonly record struct CompileTarget(ModuleCompiler Compiler, ComputeCapability Capability);

/// <summary>Turns what a client sent into a loadable image: PTX and cubin as they are, CUDA C compiled for the device.</summary>
internal static class ModuleImages
{
    /// <summary>The image of PTX or a cubin; null for CUDA C, which <see cref="Compile"/> turns into one.</summary>
    public static CompiledModule? AsIs(ModuleFormat format, string name, ReadOnlyMemory<byte> image)
    {
        if (image.IsEmpty)
        {
            throw new EngineException(EngineError.InvalidArgument, $"module {name} is empty");
        }
        return format switch
        {
            ModuleFormat.CudaC => null,
            // Copied: the caller's memory is only lent for the call, and the image is kept for reloads.
            ModuleFormat.Ptx => new CompiledModule(new ModuleImage(ModuleImageKind.Ptx, image.ToArray()), "", FromCache: false),
            ModuleFormat.Cubin => new CompiledModule(new ModuleImage(ModuleImageKind.Cubin, image.ToArray()), "", FromCache: false),
            _ => throw new EngineException(EngineError.InvalidArgument, $"module format {(byte)format} is not one of CUDA C, PTX, cubin"),
        };
    }

    /// <summary>Compiles CUDA C through the disk cache; from any thread but the engine's, since it can take seconds.</summary>
    public static CompiledModule Compile(CompileTarget target, string name, ReadOnlyMemory<byte> source)
    {
        try
        {
            return target.Compiler.Compile(new KernelSource(name, Encoding.UTF8.GetString(source.Span)), target.Capability);
        }
        catch (GpuException e)
        {
            // Compiling touches no context, so no failure of it is a fault of the device's.
            throw new EngineException(EngineError.CompileFailed, e.Message, e);
        }
    }
}
