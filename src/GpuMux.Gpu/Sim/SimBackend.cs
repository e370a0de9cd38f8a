using GpuMux.Gpu.Compilation;

namespace GpuMux.Gpu.Sim;

/// <summary>
/// Simulated devices on the CPU: the same contract as CUDA, real data, modelled time. Every
/// layer above the GPU layer is tested on it.
/// </summary>
internal sealed class SimBackend : GpuBackend
{
    private readonly SimDeviceOptions _options;
    private readonly ModuleCompiler _compiler;
    private readonly int[] _resets;

    public SimBackend(GpuBackendOptions options)
    {
        _options = options.Sim;
        _compiler = new ModuleCompiler(new SimCompiler(_options.BeforeCompileForTests), options.ModuleCacheDirectory);
        Devices = [.. Enumerable.Range(0, _options.DeviceCount).Select(Describe)];
        _resets = new int[Devices.Count];
    }

    public override GpuBackendKind Kind => GpuBackendKind.Sim;

    public override string Description => "Sim: simulated device on the CPU, no GPU in use";

    public override Version? DriverVersion => null;

    public override KernelCompilerInfo? Compiler => null;

    public override IReadOnlyList<GpuDeviceInfo> Devices { get; }

    /// <summary>How many times device <paramref name="ordinal"/> has been asked to reset.</summary>
    public int Resets(int ordinal) => Volatile.Read(ref _resets[ordinal]);

    protected override GpuContext CreateContextCore(GpuDeviceInfo device)
    {
        var damaged = _options.AfterReset == SimResetOutcome.KernelsDoNotRun && Resets(device.Ordinal) > 0;
        return new SimContext(this, device, _options, _compiler, kernelsRun: !damaged);
    }

    protected override void ResetDeviceCore(GpuDeviceInfo device)
    {
        Interlocked.Increment(ref _resets[device.Ordinal]);
        if (_options.AfterReset == SimResetOutcome.ResetFails)
        {
            throw new GpuException(GpuStatus.NoDevice, $"device {device.Ordinal} did not come back from its reset (simulated: the Sim device's AfterReset is {_options.AfterReset})");
        }
    }

    private GpuDeviceInfo Describe(int ordinal) => new()
    {
        Ordinal = ordinal,
        Name = _options.Name,
        ComputeCapability = _options.ComputeCapability,
        TotalMemoryBytes = _options.CapacityBytes,
        MultiprocessorCount = _options.MultiprocessorCount,
        PciBusId = $"sim:{ordinal}",
        Uuid = GpuUuid.Format([.. "gpumux-sim-dev"u8, (byte)(ordinal >> 8), (byte)ordinal]),
        MaxThreadsPerBlock = 1024,
        MaxBlockDim = new Dim3(1024, 1024, 64),
        MaxGridDim = new Dim3(int.MaxValue, 65535, 65535),
        MaxSharedMemoryPerBlock = 48 << 10,
        SupportsVirtualMemory = true,
        IsSimulated = true,
    };
}
