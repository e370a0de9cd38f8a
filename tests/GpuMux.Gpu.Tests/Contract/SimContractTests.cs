namespace GpuMux.Gpu.Tests.Contract;

public sealed class SimContractTests : GpuContractTests
{
    private readonly GpuBackend _backend = GpuBackends.CreateSim(new GpuBackendOptions
    {
        ModuleCacheDirectory = Directory.CreateTempSubdirectory("gpumux-sim-cache-").FullName,
    });

    protected override GpuBackend Backend => _backend;
}
