using GpuMux.Robustness.Fuzzing;
using GpuMux.Robustness.Scenarios;

namespace GpuMux.Robustness;

/// <summary>The scenarios of the suite.</summary>
internal enum ScenarioKind
{
    Fuzz,
    KilledClients,
    CompletionOrder,
    Safetensors,
    Reload,
    Shutdown,
}

/// <summary>Which scenarios run, and how large each is: <see cref="Full"/> as the issue sizes them, <see cref="Small"/> for CI.</summary>
internal sealed record SuiteOptions
{
    public IReadOnlyList<ScenarioKind> Scenarios { get; init; } = Enum.GetValues<ScenarioKind>();

    /// <summary>Each family is fuzzed on a daemon of its own, so that one family's finding does not hide another's.</summary>
    public IReadOnlyList<FuzzFamily> FuzzFamilies { get; init; } = Enum.GetValues<FuzzFamily>();

    public required FuzzOptions Fuzz { get; init; }

    public required KilledClientsOptions Killed { get; init; }

    public required CompletionOrderOptions Order { get; init; }

    public required SafetensorsOptions Safetensors { get; init; }

    public required ReloadOptions Reload { get; init; }

    public required ShutdownOptions Shutdown { get; init; }

    public static SuiteOptions Full => new()
    {
        Fuzz = new FuzzOptions { Families = [], Fuzzers = 4, HonestClients = 1, Duration = TimeSpan.FromSeconds(40) },
        Killed = new KilledClientsOptions { Clients = 1000 },
        Order = new CompletionOrderOptions { Clients = 256, StepsPerClient = 2_000 },
        Safetensors = new SafetensorsOptions { Files = 100_000, DaemonFiles = 300 },
        Reload = new ReloadOptions { Signals = 1000 },
        Shutdown = new ShutdownOptions { BusyClients = 64, IdleClients = 16, StagingClients = 4 },
    };

    public static SuiteOptions Small => new()
    {
        Fuzz = new FuzzOptions { Families = [], Fuzzers = 2, HonestClients = 1, MaxFrames = 2000, Duration = TimeSpan.FromSeconds(5) },
        Killed = new KilledClientsOptions { Clients = 100, Concurrency = 8 },
        Order = new CompletionOrderOptions { Clients = 16, StepsPerClient = 200 },
        Safetensors = new SafetensorsOptions { Files = 3_000, DaemonFiles = 40 },
        Reload = new ReloadOptions { Signals = 40 },
        Shutdown = new ShutdownOptions { BusyClients = 8, IdleClients = 4, StagingClients = 1 },
    };
}
