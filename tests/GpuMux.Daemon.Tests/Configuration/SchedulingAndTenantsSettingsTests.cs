using GpuMux.Daemon.Configuration;
using GpuMux.Engine.Tenants;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;

namespace GpuMux.Daemon.Tests.Configuration;

/// <summary>The Scheduling and Tenants sections as the daemon binds them and hands them to the engine.</summary>
public sealed class SchedulingAndTenantsSettingsTests : IDisposable
{
    private readonly DirectoryInfo _directory = Directory.CreateTempSubdirectory("gpumuxd-scheduling-test-");

    public void Dispose() => _directory.Delete(recursive: true);

    [Fact]
    public void Classes_in_the_file_replace_the_default_ones_rather_than_join_them()
    {
        using var services = Bind("""
            {
              "Scheduling": {
                "Policy": "Request",
                "Classes": [ { "Name": "realtime", "MinimumShare": 0, "MaxStepMs": 2000 }, { "Name": "bulk", "MinimumShare": 0.1 } ],
                "DefaultClass": "bulk",
                "StepsOnDevicePerClass": 3,
                "ShareWindowMs": 250,
                "SwapAmortization": 2.5
              }
            }
            """);

        var scheduling = services.GetRequiredService<IOptions<SchedulingOptions>>().Value.ToEngine();

        Assert.Equal(GpuMux.Engine.Scheduling.SchedulingPolicy.Request, scheduling.Policy);
        Assert.Equal(
            [
                new GpuMux.Engine.Scheduling.PriorityClassOptions("realtime", 0) { MaxStepTime = TimeSpan.FromSeconds(2) },
                new GpuMux.Engine.Scheduling.PriorityClassOptions("bulk", 0.1) { MaxStepTime = TimeSpan.FromSeconds(10) },
            ],
            scheduling.Classes);
        Assert.Equal(("bulk", 3, TimeSpan.FromMilliseconds(250), 2.5), (scheduling.DefaultClass, scheduling.StepsOnDevicePerClass, scheduling.ShareWindow, scheduling.SwapAmortization));
    }

    [Fact]
    public void Without_classes_the_engine_s_default_classes_hold()
    {
        using var services = Bind("{}");

        var scheduling = services.GetRequiredService<IOptions<SchedulingOptions>>().Value.ToEngine();

        Assert.Equal(new GpuMux.Engine.Scheduling.SchedulingOptions().Classes, scheduling.Classes);
        Assert.Equal("standard", scheduling.DefaultClass);
    }

    [Fact]
    public void A_swap_amortization_out_of_range_stops_the_start_and_is_named_once()
    {
        // The tenants' validation reads the scheduling section too, which reports it again.
        Assert.Equal(["Scheduling:SwapAmortization is 5000; it must be from 0 to 1000."], Check("--Scheduling:SwapAmortization=5000").Errors);
    }

    [Fact]
    public void A_uid_s_entry_overrides_only_what_it_names()
    {
        using var services = Bind("""
            {
              "Tenants": {
                "Default": { "MaxDeviceBytes": 1073741824, "MaxLeases": 2, "GpuSecondsPerDay": 3600, "HighestClass": "standard" },
                "Uids": { "1000": { "Weight": 4, "HighestClass": "" }, "1001": { "MaxLeases": 0 } }
              }
            }
            """, "--Tenants:Uids:1002:GpuSecondsPerDay=60");

        var tenants = services.GetRequiredService<IOptions<TenantsOptions>>().Value.ToEngine();

        var defaults = new TenantLimits { MaxDeviceBytes = 1 << 30, MaxLeases = 2, GpuSecondsPerDay = 3600, HighestClass = "standard" };
        Assert.Equal(defaults, tenants.Default);
        Assert.Equal(defaults with { Weight = 4, HighestClass = null }, tenants.For(1000));
        Assert.Equal(defaults with { MaxLeases = 0 }, tenants.For(1001));
        Assert.Equal(defaults with { GpuSecondsPerDay = 60 }, tenants.For(1002));
        Assert.Equal(defaults, tenants.For(1003));
    }

    [Fact]
    public void Tenants_run_the_built_in_kernels_only_unless_the_configuration_trusts_them()
    {
        using var services = Bind("""
            {
              "Tenants": {
                "Uids": { "1000": { "Kernels": "trusted" }, "1001": { "Kernels": "Builtin" } }
              }
            }
            """, "--Tenants:Uids:1002:Kernels=TRUSTED");

        var tenants = services.GetRequiredService<IOptions<TenantsOptions>>().Value.ToEngine();

        Assert.Equal(KernelPolicy.Builtin, tenants.Default.Kernels);
        Assert.Equal(KernelPolicy.Trusted, tenants.For(1000).Kernels);
        Assert.Equal(KernelPolicy.Builtin, tenants.For(1001).Kernels);
        Assert.Equal(KernelPolicy.Trusted, tenants.For(1002).Kernels);
        Assert.Equal(KernelPolicy.Builtin, tenants.For(1003).Kernels);
    }

    [Theory]
    [InlineData("all")]
    [InlineData("1")]
    [InlineData("")]
    public void A_kernel_policy_other_than_builtin_or_trusted_stops_the_start_and_is_named(string value)
    {
        Assert.Equal(
            [$"Tenants:Default:Kernels is '{value}'; it must be builtin (module 0 and registered models only) or trusted (any module)."],
            Check($"--Tenants:Default:Kernels={value}").Errors);
    }

    [Fact]
    public void A_highest_class_that_is_not_a_class_stops_the_start_and_is_named()
    {
        Assert.Equal(
            ["Tenants:Uids:1000:HighestClass is 'gold'; it must be one of the classes (interactive, standard, batch), or empty for any."],
            Check("--Tenants:Uids:1000:HighestClass=gold").Errors);
    }

    [Fact]
    public void A_highest_class_is_checked_against_the_configured_classes()
    {
        Assert.Empty(Check("--Scheduling:Classes:0:Name=gold", "--Scheduling:DefaultClass=gold", "--Tenants:Default:HighestClass=gold").Errors);
    }

    private ServiceProvider Bind(string json, params string[] args)
    {
        var file = Path.Combine(_directory.FullName, "gpumuxd.json");
        File.WriteAllText(file, json);
        var configuration = DaemonLayers.Layered(["--config", file, .. args], null, AbsentFile);
        return new ServiceCollection().AddGpumuxdOptions(configuration).BuildServiceProvider();
    }

    private ConfigurationProblems Check(params string[] args) => DaemonLayers.Check(args, AbsentFile);

    private string AbsentFile => Path.Combine(_directory.FullName, "absent.json");
}
