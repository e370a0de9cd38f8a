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
    /// Layers gpumuxd's configuration over the host's (see <see cref="DaemonConfigurationSources"/>)
    /// and registers <see cref="SocketOptions"/>, <see cref="DeviceOptions"/>, <see cref="SimOptions"/>
    /// <see cref="LimitsOptions"/> and <see cref="MemoryOptions"/>, validated when the host starts.
    /// </summary>
    public static IHostApplicationBuilder AddGpumuxdConfiguration(this IHostApplicationBuilder builder, string[] args)
    {
        builder.Configuration.AddGpumuxdSources(
            args, Environment.GetEnvironmentVariable(ConfigurationFile.EnvironmentVariable), ConfigurationFile.DefaultPath);
        builder.Services.AddGpumuxdOptions(builder.Configuration);
        return builder;
    }

    public static IServiceCollection AddGpumuxdOptions(this IServiceCollection services, IConfiguration configuration)
    {
        // Each Bind is spelled out with its concrete type: the binding source generator rewrites
        // only such calls, and a generic helper would fall back to the reflection binder.
        AddValidation(services.AddOptions<SocketOptions>().Bind(configuration.GetSection(SocketOptions.SectionName)));
        AddValidation(services.AddOptions<DeviceOptions>().Bind(configuration.GetSection(DeviceOptions.SectionName)));
        AddValidation(services.AddOptions<SimOptions>().Bind(configuration.GetSection(SimOptions.SectionName)));
        AddValidation(services.AddOptions<LimitsOptions>().Bind(configuration.GetSection(LimitsOptions.SectionName)));
        AddValidation(services.AddOptions<MemoryOptions>().Bind(configuration.GetSection(MemoryOptions.SectionName)));
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
