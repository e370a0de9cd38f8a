namespace GpuMux.Daemon.Configuration;

/// <summary>What one client may ask of the daemon, so that no client can exhaust it for the others.</summary>
internal sealed class LimitsOptions : IDaemonSettings
{
    public static string SectionName => "Limits";

    public int MaxSessions { get; set; } = 256;

    /// <summary>How long a new connection has to say Hello before it is closed.</summary>
    public int HandshakeTimeoutMs { get; set; } = 10_000;

    /// <summary>Connections that have not said Hello yet, at most; one more closes the oldest of them.</summary>
    public int MaxPendingHandshakes { get; set; } = 256;

    public int MaxFramePayloadBytes { get; set; } = 64 << 10;

    public int MaxInFlightStepsPerSession { get; set; } = 64;

    /// <summary>0: no limit beyond device memory and the session's lease.</summary>
    public ulong MaxBufferBytesPerSession { get; set; }

    public int MaxBuffersPerSession { get; set; } = 1024;

    public int MaxRegionsPerSession { get; set; } = 64;

    public ulong MaxRegionBytes { get; set; } = 16UL << 30;

    public int MaxModulesPerSession { get; set; } = 64;

    public int MaxModuleBytes { get; set; } = 64 << 20;

    /// <summary>CUDA C compiles one uid may have under way at once; one more waits its turn.</summary>
    public int MaxConcurrentCompilesPerTenant { get; set; } = 2;

    public int MaxOpsPerStep { get; set; } = 256;

    public void Validate(SettingErrors errors)
    {
        errors.RequireRange(nameof(MaxSessions), MaxSessions, 1, 65_536);
        errors.RequireRange(nameof(HandshakeTimeoutMs), HandshakeTimeoutMs, 100, 600_000);
        errors.RequireRange(nameof(MaxPendingHandshakes), MaxPendingHandshakes, 1, 65_536);
        errors.RequireRange(nameof(MaxFramePayloadBytes), MaxFramePayloadBytes, 4096, 16 << 20);
        errors.RequireRange(nameof(MaxInFlightStepsPerSession), MaxInFlightStepsPerSession, 1, 65_536);
        errors.RequireRange(nameof(MaxBuffersPerSession), MaxBuffersPerSession, 1, 1 << 20);
        errors.RequireRange(nameof(MaxRegionsPerSession), MaxRegionsPerSession, 1, 4096);
        errors.RequireRange(nameof(MaxRegionBytes), MaxRegionBytes, 4096UL, 1UL << 40);
        errors.RequireRange(nameof(MaxModulesPerSession), MaxModulesPerSession, 1, 65_536);
        errors.RequireRange(nameof(MaxModuleBytes), MaxModuleBytes, 1, 1 << 30);
        errors.RequireRange(nameof(MaxConcurrentCompilesPerTenant), MaxConcurrentCompilesPerTenant, 1, 64);
        errors.RequireRange(nameof(MaxOpsPerStep), MaxOpsPerStep, 1, 65_536);
    }
}
