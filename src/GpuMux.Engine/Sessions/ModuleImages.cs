using System.Text;
using GpuMux.Gpu;

namespace GpuMux.Engine.Sessions;

/// <summary>Turns what a client sent into a loadable image: CUDA C compiled for the device, PTX and cubin as they are.</summary>
internal static class ModuleImages
{
    public static CompiledModule FromClient(GpuContext context, ModuleFormat format, string name, ReadOnlyMemory<byte> image)
    {
        if (image.IsEmpty)
        {
            throw new EngineException(EngineError.InvalidArgument, $"module {name} is empty");
        }
        return format switch
        {
            ModuleFormat.CudaC => Compile(context, new KernelSource(name, Encoding.UTF8.GetString(image.Span))),
            // Copied: the caller's memory is only lent for the call, and the image is kept for reloads.
            ModuleFormat.Ptx => new CompiledModule(new ModuleImage(ModuleImageKind.Ptx, image.ToArray()), "", FromCache: false),
            ModuleFormat.Cubin => new CompiledModule(new ModuleImage(ModuleImageKind.Cubin, image.ToArray()), "", FromCache: false),
            _ => throw new EngineException(EngineError.InvalidArgument, $"module format {(byte)format} is not one of CUDA C, PTX, cubin"),
        };
    }

    private static CompiledModule Compile(GpuContext context, KernelSource source)
    {
        try
        {
            return context.Compile(source);
        }
        catch (GpuException e) when (!e.IsContextFatal)
        {
            throw new EngineException(EngineError.CompileFailed, e.Message, e);
        }
    }
}
