using System.Text;
using GpuMux.Gpu.Cuda.Native;
using static GpuMux.Gpu.Cuda.Native.CudaDriver;

namespace GpuMux.Gpu.Cuda;

internal sealed unsafe class CudaModule : GpuModule
{
    private const int JitLogBytes = 16 << 10;

    private readonly CudaHandle _owned;

    private CudaModule(CudaContext context, nint handle)
        : base(context)
    {
        Handle = handle;
        _owned = new CudaHandle(context, CudaHandleKind.Module, handle);
    }

    public nint Handle { get; }

    /// <summary>Loads a cubin, or JIT-compiles PTX, keeping the driver's error log for the exception if it fails.</summary>
    public static CudaModule Load(CudaContext context, ModuleImage image)
    {
        // PTX is text the driver reads up to a terminating NUL.
        var bytes = image.Kind == ModuleImageKind.Ptx ? [.. image.Bytes.Span, (byte)0] : image.Bytes.ToArray();
        var log = new byte[JitLogBytes];
        var options = stackalloc int[] { CudaConstants.CU_JIT_ERROR_LOG_BUFFER, CudaConstants.CU_JIT_ERROR_LOG_BUFFER_SIZE_BYTES };
        nint handle;
        CUresult result;
        fixed (byte* data = bytes)
        fixed (byte* logBuffer = log)
        {
            // Scalar JIT option values travel in the pointer slot itself.
            var values = stackalloc void*[] { logBuffer, (void*)(nint)JitLogBytes };
            result = cuModuleLoadDataEx(&handle, data, 2, options, values);
        }
        if (result != CUresult.CUDA_SUCCESS)
        {
            var text = Encoding.UTF8.GetString(log).TrimEnd('\0').Trim();
            throw new CudaException(result, text.Length == 0 ? "cuModuleLoadDataEx" : $"cuModuleLoadDataEx (JIT log: {text})");
        }
        return new CudaModule(context, handle);
    }

    protected override GpuFunction GetFunctionCore(string name)
    {
        var utf8 = Encoding.UTF8.GetBytes(name + "\0");
        nint function;
        fixed (byte* namePointer = utf8)
        {
            CudaCheck.ThrowIfFailed(cuModuleGetFunction(&function, Handle, namePointer), $"cuModuleGetFunction(\"{name}\")");
        }
        return new CudaFunction(this, name, function);
    }

    protected override void Release() => _owned.Dispose();
}

internal sealed class CudaFunction(CudaModule module, string name, nint handle) : GpuFunction(module, name)
{
    /// <summary>The <c>CUfunction</c>; owned by the module, valid while it is loaded.</summary>
    public nint Handle { get; } = handle;
}
