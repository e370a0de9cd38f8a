using System.Diagnostics.CodeAnalysis;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Options;

namespace GpuMux.Daemon.Configuration;

internal static class DaemonConfigurationExtensions
{
    /// <summary>
    /// Layers gpumuxd's configuration over the host's (see <see cref="DaemonConfiguration"/>),
    /// registers <see cref="SocketOptions"/>, <see cref="DeviceOptions"/>, <see cref="SimOptions"/>,
    /// <see cref="LimitsOptions"/>, <see cref="MemoryOptions"/>, <see cref="SchedulingOptions"/>,
    /// <see cref="TenantsOptions"/>, <see cref="AdminOptions"/> and <see cref="MetricsOptions"/>,
    /// validated when the host starts, and the reload of the file.
    /// </summary>
    /// <exception cref="ConfigurationException">The configuration has a value the daemon cannot use.</exception>
    public static IHostApplicationBuilder AddGpumuxdConfiguration(this IHostApplicationBuilder builder, DaemonConfiguration configuration)
    {
        if (configuration.Check(configuration.AtStart.Settings).Errors is { Count: > 0 } errors)
        {
            throw new ConfigurationException(errors);
        }

        configuration.AddTo(builder.Configuration);
        builder.Services.AddGpumuxdOptions(builder.Configuration);
        builder.Services.AddSingleton(configuration);
        builder.Services.AddSingleton<ConfigurationReload>();
        builder.Services.AddHostedService(services => services.GetRequiredService<ConfigurationReload>());
        return builder;
    }

    public static IServiceCollection AddGpumuxdOptions(this IServiceCollection services, IConfiguration configuration)
    {
        // Each Bind is spelled out with its concrete type: the binding source generator rewrites
        // only such calls, and a generic helper would fall back to the reflection binder. Binding
        // in Configure, rather than OptionsBuilder.Bind, registers no change-token source: the
        // options keep the values they started with. TenantLimitsReload reads the Tenants section
        // again itself.
        AddValidation(services.AddOptions<SocketOptions>().Configure(o => configuration.GetSection(SocketOptions.SectionName).Bind(o)));
        AddValidation(services.AddOptions<DeviceOptions>().Configure(o => configuration.GetSection(DeviceOptions.SectionName).Bind(o)));
        AddValidation(services.AddOptions<SimOptions>().Configure(o => configuration.GetSection(SimOptions.SectionName).Bind(o)));
        AddValidation(services.AddOptions<LimitsOptions>().Configure(o => configuration.GetSection(LimitsOptions.SectionName).Bind(o)));
        AddValidation(services.AddOptions<MemoryOptions>().Configure(o => configuration.GetSection(MemoryOptions.SectionName).Bind(o)));
        AddValidation(services.AddOptions<SchedulingOptions>().Configure(o => configuration.GetSection(SchedulingOptions.SectionName).Bind(o)));
        AddValidation(services.AddOptions<AdminOptions>().Configure(o => configuration.GetSection(AdminOptions.SectionName).Bind(o)));
        AddValidation(services.AddOptions<MetricsOptions>().Configure(o => configuration.GetSection(MetricsOptions.SectionName).Bind(o)));
        services.AddOptions<TenantsOptions>().Configure(o => configuration.GetSection(TenantsOptions.SectionName).Bind(o)).ValidateOnStart();
        services.TryAddEnumerable(ServiceDescriptor.Singleton<IValidateOptions<TenantsOptions>, TenantsValidator>());
        return services;
    }

    private static void AddValidation<[DynamicallyAccessedMembers(DynamicallyAccessedMemberTypes.PublicParameterlessConstructor)] TOptions>(
        OptionsBuilder<TOptions> options)
        where TOptions : class, IDaemonSettings
    {
        options.ValidateOnStart();
        options.Services.TryAddEnumerable(ServiceDescriptor.Singleton<IValidateOptions<TOptions>, SettingsValidator<TOptions>>());
    }
}
