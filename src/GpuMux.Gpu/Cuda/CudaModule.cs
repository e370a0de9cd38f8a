using System.Text;
using GpuMux.Gpu.Cuda.Native;
using static GpuMux.Gpu.Cuda.Native.CudaDriver;

namespace GpuMux.Gpu.Cuda;

internal sealed unsafe class CudaModule : GpuModule
{
    private const int JitLogBytes = 16 << 10;

    private readonly CudaHandle _owned;

    // Far beyond the 32,764 bytes of parameters a kernel may take, each at least a byte.
    private const int MaxParameters = 1 << 15;

    private readonly IReadOnlyDictionary<string, IReadOnlyList<KernelParameter>>? _declaredParameters;

    private CudaModule(CudaContext context, nint handle, IReadOnlyDictionary<string, IReadOnlyList<KernelParameter>>? declaredParameters)
        : base(context)
    {
        Handle = handle;
        _owned = new CudaHandle(context, CudaHandleKind.Module, handle);
        _declaredParameters = declaredParameters;
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
        return new CudaModule(context, handle, image.DeclaredParameters);
    }

    protected override GpuFunction GetFunctionCore(string name)
    {
        var utf8 = Encoding.UTF8.GetBytes(name + "\0");
        nint function;
        fixed (byte* namePointer = utf8)
        {
            CudaCheck.ThrowIfFailed(cuModuleGetFunction(&function, Handle, namePointer), $"cuModuleGetFunction(\"{name}\")");
        }
        IReadOnlyList<KernelParameter>? parameters = ReadParameters(function, name);
        if (parameters is null && _declaredParameters is not null && _declaredParameters.TryGetValue(name, out var declared))
        {
            parameters = declared;
        }
        return new CudaFunction(this, name, function, parameters);
    }

    /// <summary>The kernel's parameters as the driver lays them out, or null where the driver is older than the call.</summary>
    private static KernelParameter[]? ReadParameters(nint function, string name)
    {
        var parameters = new List<KernelParameter>();
        try
        {
            for (nuint index = 0; index < MaxParameters; index++)
            {
                nuint offset, size;
                var result = cuFuncGetParamInfo(function, index, &offset, &size);
                if (result == CUresult.CUDA_ERROR_INVALID_VALUE)
                {
                    return [.. parameters];
                }
                CudaCheck.ThrowIfFailed(result, $"cuFuncGetParamInfo(\"{name}\", {index})");
                parameters.Add(new KernelParameter(offset, size));
            }
        }
        catch (EntryPointNotFoundException)
        {
            return null;
        }
        throw new GpuException(GpuStatus.NotSupported, $"kernel {name} has more than {MaxParameters} parameters");
    }

    protected override void Release() => _owned.Dispose();
}

internal sealed class CudaFunction(CudaModule module, string name, nint handle, IReadOnlyList<KernelParameter>? parameters)
    : GpuFunction(module, name, parameters)
{
    /// <summary>The <c>CUfunction</c>; owned by the module, valid while it is loaded.</summary>
    public nint Handle { get; } = handle;
}
