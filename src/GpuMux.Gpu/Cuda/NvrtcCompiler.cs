using System.Runtime.InteropServices;
using System.Text;
using GpuMux.Gpu.Compilation;
using GpuMux.Gpu.Cuda.Native;
using static GpuMux.Gpu.Cuda.Native.Nvrtc;

namespace GpuMux.Gpu.Cuda;

/// <summary>
/// CUDA C to a cubin for the device's own architecture with NVRTC, or, where this NVRTC is
/// older than the device, to PTX for the newest architecture it knows, which the driver then
/// compiles for the device when the module loads.
/// </summary>
internal sealed unsafe class NvrtcCompiler : IKernelCompiler
{
    private readonly int[] _supportedArchitectures;

    public NvrtcCompiler()
    {
        int major, minor, count;
        NvrtcCheck.ThrowIfFailed(nvrtcVersion(&major, &minor));
        NvrtcCheck.ThrowIfFailed(nvrtcGetNumSupportedArchs(&count));
        _supportedArchitectures = new int[count];
        fixed (int* architectures = _supportedArchitectures)
        {
            NvrtcCheck.ThrowIfFailed(nvrtcGetSupportedArchs(architectures));
        }
        Version = new Version(major, minor);
    }

    public Version Version { get; }

    public string Identity => $"nvrtc {Version}";

    public CompiledModule Compile(KernelSource source, ComputeCapability target)
    {
        SourceRules.ThrowIfBroken(source, Identity);
        var wanted = target.Major * 10 + target.Minor;
        var cubin = _supportedArchitectures.Contains(wanted);
        var architecture = cubin ? wanted : _supportedArchitectures.Where(a => a <= wanted).DefaultIfEmpty(0).Max();
        if (architecture == 0)
        {
            throw new CompileException(source.Name, $"NVRTC {Version} cannot target {target.SmName}", Identity);
        }
        // NVRTC adds the directory of the source (for a name with none, the daemon's working
        // directory) to the include path unless told not to; with it, and no -I, it looks for
        // headers among those given to nvrtcCreateProgram (none) only. SourceRules has already
        // refused every #include, since an absolute path is opened whatever the include path.
        string[] options = [.. source.Options, "--no-source-include", cubin ? $"--gpu-architecture=sm_{architecture}" : $"--gpu-architecture=compute_{architecture}"];

        nint program;
        fixed (byte* code = NullTerminated(source.Code))
        fixed (byte* name = NullTerminated(source.Name))
        {
            NvrtcCheck.ThrowIfFailed(nvrtcCreateProgram(&program, code, name, 0, null, null));
        }
        try
        {
            var result = CompileProgram(program, options);
            var log = ReadLog(program);
            if (result == nvrtcResult.NVRTC_ERROR_COMPILATION)
            {
                throw new CompileException(source.Name, log, Identity);
            }
            NvrtcCheck.ThrowIfFailed(result, "nvrtcCompileProgram");
            var image = cubin
                ? new ModuleImage(ModuleImageKind.Cubin, ReadCubin(program))
                : new ModuleImage(ModuleImageKind.Ptx, ReadPtx(program));
            return new CompiledModule(image, log, FromCache: false);
        }
        finally
        {
            nvrtcDestroyProgram(&program);
        }
    }

    private static nvrtcResult CompileProgram(nint program, string[] options)
    {
        var pointers = new nint[options.Length];
        try
        {
            for (var i = 0; i < options.Length; i++)
            {
                pointers[i] = Marshal.StringToCoTaskMemUTF8(options[i]);
            }
            fixed (nint* optionPointers = pointers)
            {
                return nvrtcCompileProgram(program, options.Length, (byte**)optionPointers);
            }
        }
        finally
        {
            foreach (var pointer in pointers)
            {
                Marshal.FreeCoTaskMem(pointer);
            }
        }
    }

    private static string ReadLog(nint program) =>
        Encoding.UTF8.GetString(ReadOutput(program, &nvrtcGetProgramLogSize, &nvrtcGetProgramLog)).TrimEnd('\0').Trim();

    private static byte[] ReadCubin(nint program) => ReadOutput(program, &nvrtcGetCUBINSize, &nvrtcGetCUBIN);

    // The PTX size counts the terminating NUL; the image holds the text alone.
    private static byte[] ReadPtx(nint program) =>
        ReadOutput(program, &nvrtcGetPTXSize, &nvrtcGetPTX).AsSpan().TrimEnd((byte)0).ToArray();

    /// <summary>NVRTC's two-call pattern for every output: ask the size, then fill a buffer of it.</summary>
    private static byte[] ReadOutput(nint program, delegate*<nint, nuint*, nvrtcResult> size, delegate*<nint, byte*, nvrtcResult> read)
    {
        nuint length;
        NvrtcCheck.ThrowIfFailed(size(program, &length), "nvrtc output size");
        var output = new byte[length];
        fixed (byte* buffer = output)
        {
            NvrtcCheck.ThrowIfFailed(read(program, buffer), "nvrtc output");
        }
        return output;
    }

    private static byte[] NullTerminated(string text) => Encoding.UTF8.GetBytes(text + "\0");
}

/// <summary>Where NVRTC is missing, PTX and cubins still load; only compiling CUDA C is refused, with the reason.</summary>
internal sealed class UnavailableCompiler(string reason) : IKernelCompiler
{
    public string Identity => "nvrtc unavailable";

    public CompiledModule Compile(KernelSource source, ComputeCapability target) =>
        throw new GpuException(GpuStatus.NotSupported, $"cannot compile {source.Name}: {reason}");
}
