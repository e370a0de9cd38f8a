using GpuMux.Gpu;

namespace GpuMux.Daemon.Configuration;

internal sealed class DeviceOptions : IDaemonSettings
{
    public static string SectionName => "Device";

    /// <summary>Written <c>auto</c>, <c>cuda</c> or <c>sim</c>, in any case.</summary>
    public BackendPreference Backend { get; set; } = BackendPreference.Auto;

    public int Ordinal { get; set; }

    /// <summary>Empty means the GPU layer's default (<c>$GPUMUX_MODULE_CACHE</c>, else the user's cache directory).</summary>
    public string ModuleCacheDirectory { get; set; } = "";

    public void Validate(SettingErrors errors)
    {
        // The binder turns any integer into an enum value, named or not.
        if (!Enum.IsDefined(Backend))
        {
            errors.Add(nameof(Backend), $"is {(int)Backend}; it must be auto, cuda or sim.");
        }
        errors.RequireAtLeast(nameof(Ordinal), Ordinal, 0);
        if (ModuleCacheDirectory.Length > 0 && !Path.IsPathRooted(ModuleCacheDirectory))
        {
            errors.Add(nameof(ModuleCacheDirectory), $"is '{ModuleCacheDirectory}'; it must be an absolute path, or empty for the default.");
        }
    }
}
