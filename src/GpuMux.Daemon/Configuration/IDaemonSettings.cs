namespace GpuMux.Daemon.Configuration;

/// <summary>One top-level section of the configuration, which checks its own values.</summary>
internal interface IDaemonSettings
{
    static abstract string SectionName { get; }

    void Validate(SettingErrors errors);
}
