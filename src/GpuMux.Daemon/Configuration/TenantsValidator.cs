using Microsoft.Extensions.Options;

namespace GpuMux.Daemon.Configuration;

/// <summary>Checks the Tenants section, whose highest classes must name classes of the Scheduling section.</summary>
internal sealed class TenantsValidator(IOptions<SchedulingOptions> scheduling) : IValidateOptions<TenantsOptions>
{
    public ValidateOptionsResult Validate(string? name, TenantsOptions options)
    {
        var errors = new SettingErrors(TenantsOptions.SectionName);
        options.Validate(errors, scheduling.Value.ClassNames);
        return errors.ToResult();
    }
}
