using Microsoft.Extensions.Options;

namespace GpuMux.Daemon.Configuration;

internal sealed class SettingsValidator<TOptions> : IValidateOptions<TOptions>
    where TOptions : class, IDaemonSettings
{
    public ValidateOptionsResult Validate(string? name, TOptions options)
    {
        var errors = new SettingErrors(TOptions.SectionName);
        options.Validate(errors);
        return errors.ToResult();
    }
}
