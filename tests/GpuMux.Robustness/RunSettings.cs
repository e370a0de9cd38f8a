using GpuMux.Robustness.Daemon;

namespace GpuMux.Robustness;

/// <summary>What every scenario of a run shares: the daemon to attack, where to put its sockets, the seed and the bounds.</summary>
internal sealed record RunSettings
{
    public string DaemonDll { get; init; } = DaemonSetup.DefaultDaemonDll;

    /// <summary>A directory of the run's own: each scenario's daemon gets a directory inside it.</summary>
    public required string WorkDirectory { get; init; }

    public int Seed { get; init; } = 15;

    /// <summary>
    /// How long a request may go unanswered before it is a hang: generous, so that a slow machine is
    /// never taken for a stalled daemon.
    /// </summary>
    public TimeSpan HangBound { get; init; } = TimeSpan.FromSeconds(30);

    /// <summary>How long the daemon may take to exit after SIGTERM.</summary>
    public TimeSpan ShutdownBound { get; init; } = TimeSpan.FromSeconds(10);

    /// <summary>Told what each scenario is doing, for a person watching a long run.</summary>
    public Action<string> Progress { get; init; } = _ => { };

    public DaemonSetup DaemonFor(string scenario, params string[] extraArguments) =>
        new(DaemonDll, Path.Combine(WorkDirectory, scenario), extraArguments);
}
