using GpuMux.Daemon.Configuration;
using GpuMux.Daemon.Metrics;
using GpuMux.Engine;
using GpuMux.Gpu;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace GpuMux.Daemon.Device;

/// <summary>
/// Chooses the backend, starts the engine before the socket opens, and stops it after the socket
/// has closed (hosted services stop in reverse order of registration).
/// </summary>
internal sealed class EngineService(
    IOptions<DeviceOptions> device,
    IOptions<SimOptions> sim,
    IOptions<LimitsOptions> limits,
    IOptions<MemoryOptions> memory,
    IOptions<SchedulingOptions> scheduling,
    IOptions<TenantsOptions> tenants,
    DescriptorBudget descriptors,
    DaemonMeter meter,
    ILoggerFactory loggerFactory,
    ILogger<EngineService> logger) : IHostedService
{
    private GpuEngine? _engine;

    public GpuEngine Engine => _engine ?? throw new InvalidOperationException("the engine has not started");

    public async Task StartAsync(CancellationToken cancellationToken)
    {
        var selection = GpuBackends.Select(device.Value.Backend, BackendOptions());
        if (selection.Backend.Kind == GpuBackendKind.Sim)
        {
            EngineServiceLog.RunningOnSim(logger, selection.CudaUnavailableReason ?? "the Sim backend was asked for");
        }

        _engine = await GpuEngine.StartAsync(selection.Backend, EngineOptions(), loggerFactory, cancellationToken);
    }

    public async Task StopAsync(CancellationToken cancellationToken)
    {
        if (_engine is not null)
        {
            await _engine.DisposeAsync();
        }
    }

    private GpuBackendOptions BackendOptions()
    {
        var options = new GpuBackendOptions { Sim = new() { CapacityBytes = (ulong)sim.Value.MemoryMiB << 20, AfterReset = sim.Value.AfterReset } };
        var cache = device.Value.ModuleCacheDirectory;
        return string.IsNullOrEmpty(cache) ? options : options with { ModuleCacheDirectory = cache };
    }

    private EngineOptions EngineOptions()
    {
        var value = limits.Value;
        var pools = memory.Value;
        return new()
        {
            DeviceOrdinal = device.Value.Ordinal,
            MaxInFlightStepsPerSession = value.MaxInFlightStepsPerSession,
            MaxBufferBytesPerSession = value.MaxBufferBytesPerSession,
            MaxBuffersPerSession = value.MaxBuffersPerSession,
            MaxRegionsPerSession = value.MaxRegionsPerSession,
            MaxRegionBytes = value.MaxRegionBytes,
            MaxModulesPerSession = value.MaxModulesPerSession,
            MaxConcurrentCompilesPerTenant = value.MaxConcurrentCompilesPerTenant,
            MaxOpsPerStep = value.MaxOpsPerStep,
            DevicePoolBytes = pools.DevicePoolBytes,
            DevicePoolFraction = pools.DevicePoolFraction,
            DevicePageBytes = pools.DevicePageBytes,
            PinnedPoolBytes = pools.PinnedPoolBytes,
            BounceBuffers = pools.BounceBuffers,
            BounceBufferBytes = pools.BounceBufferBytes,
            SwapChunkBytes = pools.SwapChunkBytes,
            LayerGroupTensors = pools.LayerGroupTensors,
            MaxModelHeaderBytes = pools.MaxModelHeaderBytes,
            Scheduling = scheduling.Value.ToEngine(),
            Tenants = tenants.Value.ToEngine(),
            Descriptors = descriptors,
            Meter = meter.Meter,
        };
    }
}

internal static partial class EngineServiceLog
{
    [LoggerMessage(EventId = 100, Level = LogLevel.Warning, Message = "No GPU in use: running on the Sim backend, a simulated device on the CPU (results are real, timings are modelled). Why: {Reason}")]
    public static partial void RunningOnSim(ILogger logger, string reason);
}
