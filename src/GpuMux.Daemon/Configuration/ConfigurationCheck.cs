using System.Diagnostics.CodeAnalysis;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;

namespace GpuMux.Daemon.Configuration;

/// <summary>What is wrong with a configuration, one line each: errors stop a start or a reload, warnings do not.</summary>
internal sealed record ConfigurationProblems(IReadOnlyList<string> Errors, IReadOnlyList<string> Warnings);

/// <summary>
/// Checks a whole configuration as the daemon would take it, before it is taken: a start, a
/// reload and <c>--check-config</c> all say the same about one file.
/// </summary>
internal static class ConfigurationCheck
{
    public static ConfigurationProblems Check(IConfiguration configuration)
    {
        List<string> errors = [];
        List<string> warnings = [];
        SettingKeys.Daemon.Check(configuration, errors, warnings);
        if (errors.Count == 0)
        {
            // Bound and validated by the same registrations the daemon starts with.
            using var services = new ServiceCollection().AddGpumuxdOptions(configuration).BuildServiceProvider();
            errors.AddRange(new[]
                {
                    Problems<SocketOptions>(services), Problems<DeviceOptions>(services), Problems<SimOptions>(services),
                    Problems<LimitsOptions>(services), Problems<MemoryOptions>(services), Problems<SchedulingOptions>(services),
                    Problems<AdminOptions>(services), Problems<MetricsOptions>(services), Problems<TenantsOptions>(services),
                }.SelectMany(problems => problems).Distinct());
        }

        return new ConfigurationProblems(errors, warnings);
    }

    private static IEnumerable<string> Problems<[DynamicallyAccessedMembers(DynamicallyAccessedMemberTypes.PublicParameterlessConstructor)] TOptions>(IServiceProvider services)
        where TOptions : class
    {
        try
        {
            _ = services.GetRequiredService<IOptions<TOptions>>().Value;
            return [];
        }
        catch (OptionsValidationException e)
        {
            return e.Failures;
        }
        catch (InvalidOperationException e)
        {
            // A value SettingKeys let through that the binder could not convert; its message names the key and the value.
            return [e.Message];
        }
    }
}
