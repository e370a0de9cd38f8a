namespace GpuMux.Gpu.Tests.Contract;

/// <summary>The contract on a real GPU. Skipped, with the reason, where the machine has none.</summary>
[Trait("Category", "Gpu")]
[Collection(nameof(CudaContractTests))]
public sealed class CudaContractTests : GpuContractTests
{
    protected override GpuBackend Backend => CudaBackendFixture.RequireBackend();
}
