namespace GpuMux.Gpu.Tests;

public sealed class GpuBackendsTests
{
    private static readonly GpuBackendOptions Options = new() { ModuleCacheDirectory = null };

    [Fact]
    public void Auto_selects_cuda_where_it_comes_up_and_otherwise_the_simulator_with_the_reason()
    {
        var cuda = GpuBackends.TryCreateCuda(Options, out var reason);

        var selection = GpuBackends.Select(BackendPreference.Auto, Options);

        if (cuda is null)
        {
            Assert.Equal(GpuBackendKind.Sim, selection.Backend.Kind);
            Assert.False(string.IsNullOrWhiteSpace(reason));
            Assert.Equal(reason, selection.CudaUnavailableReason);
        }
        else
        {
            Assert.Equal(GpuBackendKind.Cuda, selection.Backend.Kind);
            Assert.Null(selection.CudaUnavailableReason);
        }
    }

    [Fact]
    public void Asking_for_cuda_where_there_is_none_is_a_clear_error()
    {
        if (GpuBackends.TryCreateCuda(Options, out _) is not null)
        {
            Assert.Equal(GpuBackendKind.Cuda, GpuBackends.Select(BackendPreference.Cuda, Options).Backend.Kind);
            return;
        }

        var error = Assert.ThrowsAny<GpuException>(() => GpuBackends.Select(BackendPreference.Cuda, Options));

        Assert.Equal(GpuStatus.NoDevice, error.Status);
        Assert.Contains("CUDA backend unavailable", error.Message);
    }

    [Fact]
    public void The_simulator_names_itself()
    {
        var sim = GpuBackends.Select(BackendPreference.Sim, Options).Backend;

        Assert.Equal(GpuBackendKind.Sim, sim.Kind);
        Assert.Contains("Sim", sim.Description);
        Assert.Null(sim.DriverVersion);
        Assert.Null(sim.Compiler);
        Assert.All(sim.Devices, d => Assert.True(d.IsSimulated));
    }

    [Fact]
    public void A_linear_launch_covers_the_elements_up_to_the_block_cap()
    {
        Assert.Equal(new LaunchConfig(4, 256), LaunchConfig.Linear(1000, 256, 100));
        Assert.Equal(new LaunchConfig(100, 256), LaunchConfig.Linear(1_000_000, 256, 100));
        Assert.Equal(new LaunchConfig(1, 256), LaunchConfig.Linear(0, 256, 100));
    }
}
