using GpuMux.Daemon.Configuration;
using GpuMux.Gpu;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;

namespace GpuMux.Daemon.Tests.Configuration;

public sealed class BackendSettingTests
{
    [Theory]
    [InlineData("auto", BackendPreference.Auto)]
    [InlineData("CUDA", BackendPreference.Cuda)]
    [InlineData("Sim", BackendPreference.Sim)]
    public void The_backend_is_named_in_any_case(string backend, BackendPreference expected)
    {
        var configuration = new ConfigurationBuilder()
            .AddInMemoryCollection(new Dictionary<string, string?> { ["Device:Backend"] = backend })
            .Build();
        using var services = new ServiceCollection().AddGpumuxdOptions(configuration).BuildServiceProvider();

        Assert.Equal(expected, services.GetRequiredService<IOptions<DeviceOptions>>().Value.Backend);
    }
}
