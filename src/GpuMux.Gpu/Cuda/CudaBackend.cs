using System.Text;
using GpuMux.Gpu.Compilation;
using GpuMux.Gpu.Cuda.Native;
using static GpuMux.Gpu.Cuda.CudaCheck;
using static GpuMux.Gpu.Cuda.Native.CudaDriver;
using Attribute = GpuMux.Gpu.Cuda.Native.CUdevice_attribute;

namespace GpuMux.Gpu.Cuda;

/// <summary>NVIDIA GPUs through the CUDA driver API, with NVRTC for run-time compilation where it is installed.</summary>
internal sealed unsafe class CudaBackend : GpuBackend
{
    private readonly CUdevice[] _handles;
    private readonly ModuleCompiler _compiler;

    private CudaBackend(CUdevice[] handles, IReadOnlyList<GpuDeviceInfo> devices, Version driverVersion, KernelCompilerInfo compilerInfo, ModuleCompiler compiler)
    {
        _handles = handles;
        Devices = devices;
        DriverVersion = driverVersion;
        Compiler = compilerInfo;
        _compiler = compiler;
    }

    public override GpuBackendKind Kind => GpuBackendKind.Cuda;

    public override string Description => Compiler.Version is { } version
        ? $"CUDA driver {DriverVersion}, {Compiler.Name} {version} ({Compiler.LoadedFrom})"
        : $"CUDA driver {DriverVersion}, {Compiler.Name} unavailable ({Compiler.UnavailableReason})";

    public override Version DriverVersion { get; }

    public override KernelCompilerInfo Compiler { get; }

    public override IReadOnlyList<GpuDeviceInfo> Devices { get; }

    /// <summary>The backend, or null and why not: no driver library, a stub library, no device, or a driver that fails to start.</summary>
    public static CudaBackend? TryCreate(GpuBackendOptions options, out string? unavailableReason)
    {
        try
        {
            if (!CudaLibraries.TryLoadDriver(out unavailableReason))
            {
                return null;
            }
            var init = cuInit(0);
            if (init != CUresult.CUDA_SUCCESS)
            {
                unavailableReason = init == CUresult.CUDA_ERROR_NO_DEVICE
                    ? "the NVIDIA driver is installed but sees no CUDA device"
                    : $"the NVIDIA driver failed to initialise: {new CudaException(init, "cuInit").Message}";
                return null;
            }
            int count, encodedVersion;
            ThrowIfFailed(cuDeviceGetCount(&count));
            ThrowIfFailed(cuDriverGetVersion(&encodedVersion));
            if (count == 0)
            {
                unavailableReason = "the NVIDIA driver sees no CUDA device";
                return null;
            }
            var handles = Enumerable.Range(0, count).Select(GetDevice).ToArray();
            var devices = handles.Select((handle, ordinal) => Describe(ordinal, handle)).ToArray();
            // cuda.h encodes the version as 1000 * major + 10 * minor.
            var driverVersion = new Version(encodedVersion / 1000, encodedVersion % 1000 / 10);
            var (compiler, compilerInfo) = CreateCompiler(driverVersion);
            unavailableReason = null;
            return new CudaBackend(handles, devices, driverVersion, compilerInfo, new ModuleCompiler(compiler, options.ModuleCacheDirectory));
        }
        catch (Exception e) when (e is GpuException or DllNotFoundException or EntryPointNotFoundException)
        {
            unavailableReason = $"the CUDA driver could not be used: {e.Message}";
            return null;
        }
    }

    /// <summary>The driver's handle of <paramref name="device"/>, for the calls that take a <c>CUdevice</c>.</summary>
    internal CUdevice Handle(GpuDeviceInfo device) => _handles[device.Ordinal];

    protected override GpuContext CreateContextCore(GpuDeviceInfo device) => CudaContext.Create(this, device, _compiler);

    /// <summary>
    /// cuDevicePrimaryCtxReset destroys the primary context and everything in it even while some
    /// other part of the process still holds a retain on it, which a release alone would leave
    /// alive, poisoned. The header warns that it may also return errors of earlier asynchronous
    /// launches; any error counts as a failed reset.
    /// </summary>
    protected override void ResetDeviceCore(GpuDeviceInfo device) => ThrowIfFailed(cuDevicePrimaryCtxReset_v2(Handle(device)));

    /// <summary>NVRTC, if one no newer than the driver is installed; otherwise a compiler that refuses with the reason.</summary>
    private static (IKernelCompiler Compiler, KernelCompilerInfo Info) CreateCompiler(Version driverVersion)
    {
        const string Name = "NVRTC";
        if (!CudaLibraries.TryLoadNvrtc(driverVersion, out var reason))
        {
            return (new UnavailableCompiler(reason), new KernelCompilerInfo { Name = Name, UnavailableReason = reason });
        }
        var nvrtc = new NvrtcCompiler();
        return (nvrtc, new KernelCompilerInfo { Name = Name, Version = nvrtc.Version, LoadedFrom = CudaLibraries.NvrtcPath });
    }

    private static CUdevice GetDevice(int ordinal)
    {
        CUdevice device;
        ThrowIfFailed(cuDeviceGet(&device, ordinal));
        return device;
    }

    private static GpuDeviceInfo Describe(int ordinal, CUdevice device)
    {
        nuint totalMemory;
        ThrowIfFailed(cuDeviceTotalMem_v2(&totalMemory, device));
        return new GpuDeviceInfo
        {
            Ordinal = ordinal,
            Name = ReadString((buffer, length) => cuDeviceGetName(buffer, length, device)),
            ComputeCapability = new ComputeCapability(
                Read(Attribute.CU_DEVICE_ATTRIBUTE_COMPUTE_CAPABILITY_MAJOR, device),
                Read(Attribute.CU_DEVICE_ATTRIBUTE_COMPUTE_CAPABILITY_MINOR, device)),
            TotalMemoryBytes = totalMemory,
            MultiprocessorCount = Read(Attribute.CU_DEVICE_ATTRIBUTE_MULTIPROCESSOR_COUNT, device),
            PciBusId = ReadString((buffer, length) => cuDeviceGetPCIBusId(buffer, length, device)),
            Uuid = ReadUuid(device),
            MaxThreadsPerBlock = Read(Attribute.CU_DEVICE_ATTRIBUTE_MAX_THREADS_PER_BLOCK, device),
            MaxBlockDim = new Dim3(
                (uint)Read(Attribute.CU_DEVICE_ATTRIBUTE_MAX_BLOCK_DIM_X, device),
                (uint)Read(Attribute.CU_DEVICE_ATTRIBUTE_MAX_BLOCK_DIM_Y, device),
                (uint)Read(Attribute.CU_DEVICE_ATTRIBUTE_MAX_BLOCK_DIM_Z, device)),
            MaxGridDim = new Dim3(
                (uint)Read(Attribute.CU_DEVICE_ATTRIBUTE_MAX_GRID_DIM_X, device),
                (uint)Read(Attribute.CU_DEVICE_ATTRIBUTE_MAX_GRID_DIM_Y, device),
                (uint)Read(Attribute.CU_DEVICE_ATTRIBUTE_MAX_GRID_DIM_Z, device)),
            MaxSharedMemoryPerBlock = Read(Attribute.CU_DEVICE_ATTRIBUTE_MAX_SHARED_MEMORY_PER_BLOCK, device),
            SupportsVirtualMemory = Read(Attribute.CU_DEVICE_ATTRIBUTE_VIRTUAL_MEMORY_MANAGEMENT_SUPPORTED, device) != 0,
            IsSimulated = false,
        };
    }

    private static int Read(Attribute attribute, CUdevice device)
    {
        int value;
        ThrowIfFailed(cuDeviceGetAttribute(&value, attribute, device), $"cuDeviceGetAttribute({attribute})");
        return value;
    }

    private static string ReadUuid(CUdevice device)
    {
        var uuid = stackalloc byte[16];
        ThrowIfFailed(cuDeviceGetUuid_v2(uuid, device));
        return GpuUuid.Format(new ReadOnlySpan<byte>(uuid, 16));
    }

    private delegate CUresult StringQuery(byte* buffer, int length);

    private static string ReadString(StringQuery query)
    {
        const int capacity = 256;
        var buffer = stackalloc byte[capacity];
        ThrowIfFailed(query(buffer, capacity), "device string query");
        return Encoding.UTF8.GetString(buffer, new ReadOnlySpan<byte>(buffer, capacity).IndexOf((byte)0));
    }
}
