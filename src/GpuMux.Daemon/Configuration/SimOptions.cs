using GpuMux.Gpu.Sim;

namespace GpuMux.Daemon.Configuration;

/// <summary>The simulated device, used where there is no GPU or <c>Device:Backend</c> is <c>sim</c>.</summary>
internal sealed class SimOptions : IDaemonSettings
{
    public static string SectionName => "Sim";

    /// <summary>Device memory; host memory backs it only as it is touched.</summary>
    public long MemoryMiB { get; set; } = 16_384;

    /// <summary>Whether the device comes back from the reset after a fault; anything but <c>Recovers</c> rehearses a lost device.</summary>
    public SimResetOutcome AfterReset { get; set; } = SimResetOutcome.Recovers;

    public void Validate(SettingErrors errors)
    {
        errors.RequireRange(nameof(MemoryMiB), MemoryMiB, 1, 1 << 20);
        // The binder turns any integer into an enum value, named or not.
        if (!Enum.IsDefined(AfterReset))
        {
            errors.Add(nameof(AfterReset), $"is {(int)AfterReset}; it must be Recovers, ResetFails or KernelsDoNotRun.");
        }
    }
}
