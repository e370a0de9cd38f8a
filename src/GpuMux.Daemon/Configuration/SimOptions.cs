namespace GpuMux.Daemon.Configuration;

/// <summary>The simulated device, used where there is no GPU or <c>Device:Backend</c> is <c>sim</c>.</summary>
internal sealed class SimOptions : IDaemonSettings
{
    public static string SectionName => "Sim";

    /// <summary>Device memory; host memory backs it only as it is touched.</summary>
    public long MemoryMiB { get; set; } = 16_384;

    public void Validate(SettingErrors errors) => errors.RequireRange(nameof(MemoryMiB), MemoryMiB, 1, 1 << 20);
}
