using GpuMux.Daemon.Configuration;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;

namespace GpuMux.Daemon.Tests.Configuration;

/// <summary>deploy/gpumuxd.json and docs/configuration.md stay in step with the options classes.</summary>
public sealed class DeployedConfigurationTests
{
    [Fact]
    public void The_shipped_file_states_every_setting_at_its_default()
    {
        var file = ShippedFile();
        using var services = new ServiceCollection().AddGpumuxdOptions(file).BuildServiceProvider();

        AssertStatedAtDefault<SocketOptions>(file, services);
        AssertStatedAtDefault<DeviceOptions>(file, services);
        AssertStatedAtDefault<SimOptions>(file, services);
        AssertStatedAtDefault<LimitsOptions>(file, services);
        AssertStatedAtDefault<MemoryOptions>(file, services);
        AssertStatedAtDefault<AdminOptions>(file, services);
        AssertStatedAtDefault<MetricsOptions>(file, services);
    }

    [Fact]
    public void The_shipped_file_states_the_scheduling_and_tenant_defaults()
    {
        var file = ShippedFile();
        using var services = new ServiceCollection().AddGpumuxdOptions(file).BuildServiceProvider();

        foreach (var key in ScalarKeys<SchedulingOptions>().Concat(TenantKeys.Where(key => key != "Tenants:Uids")))
        {
            Assert.True(file[key] is not null, $"{key} is missing from deploy/gpumuxd.json");
        }
        var shipped = services.GetRequiredService<IOptions<SchedulingOptions>>().Value;
        var defaults = new SchedulingOptions();
        Assert.NotEmpty(shipped.Classes);
        Assert.Equal(defaults.EffectiveClasses, shipped.EffectiveClasses);
        Assert.Equal(
            (defaults.Policy, defaults.DefaultClass, defaults.StepsOnDevicePerClass, defaults.ShareWindowMs, defaults.SwapAmortization),
            (shipped.Policy, shipped.DefaultClass, shipped.StepsOnDevicePerClass, shipped.ShareWindowMs, shipped.SwapAmortization));
        var tenants = services.GetRequiredService<IOptions<TenantsOptions>>().Value;
        Assert.Equal(new TenantsOptions().ToEngine().Default, tenants.ToEngine().Default);
        Assert.Empty(tenants.Uids);
    }

    [Fact]
    public void The_documentation_names_every_setting()
    {
        var documentation = File.ReadAllText(RepositoryFiles.PathOf("docs", "configuration.md"));

        var undocumented = Keys<SocketOptions>().Concat(Keys<DeviceOptions>()).Concat(Keys<SimOptions>()).Concat(Keys<LimitsOptions>())
            .Concat(Keys<MemoryOptions>()).Concat(Keys<SchedulingOptions>()).Concat(TenantKeys).Concat(Keys<AdminOptions>()).Concat(Keys<MetricsOptions>())
            .Where(key => !documentation.Contains($"`{key}`", StringComparison.Ordinal));

        Assert.Empty(undocumented);
    }

    /// <summary>The Tenants section's keys: the default tenant's limits, and the per-uid overrides.</summary>
    private static IEnumerable<string> TenantKeys =>
        SettingsAssert.Settings<TenantLimitOptions>().Select(p => $"{TenantsOptions.SectionName}:{nameof(TenantsOptions.Default)}:{p.Name}")
            .Append($"{TenantsOptions.SectionName}:{nameof(TenantsOptions.Uids)}");

    private static IConfiguration ShippedFile() =>
        new ConfigurationBuilder().AddJsonFile(RepositoryFiles.PathOf("deploy", "gpumuxd.json")).Build();

    /// <summary>Keys whose values are single settings, not lists.</summary>
    private static IEnumerable<string> ScalarKeys<T>()
        where T : IDaemonSettings =>
        SettingsAssert.Settings<T>().Where(p => p.PropertyType == typeof(string) || !typeof(System.Collections.IEnumerable).IsAssignableFrom(p.PropertyType))
            .Select(p => $"{T.SectionName}:{p.Name}");

    private static void AssertStatedAtDefault<T>(IConfiguration file, IServiceProvider services)
        where T : class, IDaemonSettings, new()
    {
        foreach (var key in Keys<T>())
        {
            Assert.True(file[key] is not null, $"{key} is missing from deploy/gpumuxd.json");
        }
        SettingsAssert.EqualSettings(new T(), services.GetRequiredService<IOptions<T>>().Value);
    }

    private static IEnumerable<string> Keys<T>()
        where T : IDaemonSettings => SettingsAssert.Settings<T>().Select(p => $"{T.SectionName}:{p.Name}");
}
