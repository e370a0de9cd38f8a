using GpuMux.Robustness;
using GpuMux.Robustness.Fuzzing;

namespace GpuMux.Bench.Robustness;

internal sealed record RobustnessOptions
{
    public const string Usage = """
        usage: GpuMux.Bench robustness [--size full|small] [--scenarios fuzz,killed,order,safetensors,reload,shutdown]
                                       [--families random-bytes,fields,counts,types,lengths,descriptors,shrink,cut,churn]
                                       [--fuzz-seconds 40] [--fuzz-frames N] [--fuzzers 4]
                                       [--hang-seconds 30] [--seed 15] [--daemon PATH] [--out DIR]

          --size          full: the issue's sizes (default); small: what CI runs
          --scenarios     which scenarios to run, in this order (default all)
          --families      the fuzz families, each fuzzed on a daemon of its own (default all)
          --fuzz-seconds  how long each fuzz family runs (full: 40, small: 5)
          --fuzz-frames   stop each fuzz family after this many frames (full: no limit, small: 2000)
          --fuzzers       fuzzing connections at once, beside one honest client (full: 4, small: 2)
          --hang-seconds  a request unanswered this long is a hang (default 30)
          --seed          seed of every random choice (default 15)
          --daemon        the gpumuxd.dll to attack, started with dotnet (default: the one built beside this program)
          --out           also write a raw results file, robustness-<utc time>-sim.md, into DIR

        Each scenario starts gpumuxd as a process of its own, on the Sim backend, on a socket in a
        temporary directory, and counts what went wrong: daemon deaths, hangs, wrong results and
        errors of clients whose requests were valid, resources not given back; and measures the
        daemon's memory, descriptors, threads and mappings before and after. Exit code 0 when every
        failure count is 0, 3 when one is not, 1 when the suite itself could not run, 2 on a bad
        command line.
        """;

    public static readonly IReadOnlyDictionary<string, ScenarioKind> ScenarioNames = new Dictionary<string, ScenarioKind>
    {
        ["fuzz"] = ScenarioKind.Fuzz,
        ["killed"] = ScenarioKind.KilledClients,
        ["order"] = ScenarioKind.CompletionOrder,
        ["safetensors"] = ScenarioKind.Safetensors,
        ["reload"] = ScenarioKind.Reload,
        ["shutdown"] = ScenarioKind.Shutdown,
    };

    public static readonly IReadOnlyDictionary<string, FuzzFamily> FamilyNames = new Dictionary<string, FuzzFamily>
    {
        ["random-bytes"] = FuzzFamily.RandomBytes,
        ["fields"] = FuzzFamily.Fields,
        ["counts"] = FuzzFamily.Counts,
        ["types"] = FuzzFamily.Types,
        ["lengths"] = FuzzFamily.Lengths,
        ["descriptors"] = FuzzFamily.Descriptors,
        ["shrink"] = FuzzFamily.Shrink,
        ["cut"] = FuzzFamily.Cut,
        ["churn"] = FuzzFamily.Churn,
    };

    public SuiteOptions Suite { get; init; } = SuiteOptions.Full;

    public int Seed { get; init; } = 15;

    public TimeSpan HangBound { get; init; } = TimeSpan.FromSeconds(30);

    public string? DaemonDll { get; init; }

    public string? OutputDirectory { get; init; }

    /// <summary>The command line as given, for the results file.</summary>
    public string CommandLine { get; init; } = "";

    public static RobustnessOptions Parse(IReadOnlyList<string> args)
    {
        // The size goes first, so that the options after it adjust its sizes whatever their order.
        var options = new RobustnessOptions { CommandLine = string.Join(' ', args) };
        var size = args.Select((arg, i) => (arg, i)).LastOrDefault(pair => pair.arg == "--size");
        if (size.arg is not null)
        {
            var value = size.i + 1 < args.Count ? args[size.i + 1] : throw new UsageException("--size: missing value");
            options = options with
            {
                Suite = value switch
                {
                    "full" => SuiteOptions.Full,
                    "small" => SuiteOptions.Small,
                    _ => throw new UsageException($"--size: expected full or small, not '{value}'"),
                },
            };
        }

        foreach (var (name, value) in OptionValues.Pairs(args))
        {
            var suite = options.Suite;
            options = name switch
            {
                "--size" => options,
                "--scenarios" => options with { Suite = suite with { Scenarios = Names(name, value, ScenarioNames) } },
                "--families" => options with { Suite = suite with { FuzzFamilies = Names(name, value, FamilyNames) } },
                "--fuzz-seconds" => options with { Suite = suite with { Fuzz = suite.Fuzz with { Duration = Seconds(name, value) } } },
                "--fuzz-frames" => options with { Suite = suite with { Fuzz = suite.Fuzz with { MaxFrames = OptionValues.Count(name, value, minimum: 1) } } },
                "--fuzzers" => options with { Suite = suite with { Fuzz = suite.Fuzz with { Fuzzers = OptionValues.Count(name, value, minimum: 1) } } },
                "--killed-clients" => options with { Suite = suite with { Killed = suite.Killed with { Clients = OptionValues.Count(name, value, minimum: 1) } } },
                "--order-clients" => options with { Suite = suite with { Order = suite.Order with { Clients = OptionValues.Count(name, value, minimum: 1) } } },
                "--order-steps" => options with { Suite = suite with { Order = suite.Order with { StepsPerClient = OptionValues.Count(name, value, minimum: 1) } } },
                "--headers" => options with { Suite = suite with { Safetensors = suite.Safetensors with { Files = OptionValues.Count(name, value, minimum: 0) } } },
                "--daemon-headers" => options with { Suite = suite with { Safetensors = suite.Safetensors with { DaemonFiles = OptionValues.Count(name, value, minimum: 0) } } },
                "--hang-seconds" => options with { HangBound = Seconds(name, value) },
                "--seed" => options with { Seed = OptionValues.Count(name, value, minimum: 0) },
                "--daemon" => options with { DaemonDll = Path.GetFullPath(value) },
                "--out" => options with { OutputDirectory = value },
                _ => throw new UsageException($"unknown option '{name}'"),
            };
        }

        return options;
    }

    private static T[] Names<T>(string name, string value, IReadOnlyDictionary<string, T> known)
    {
        var items = value.Split(',', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries);
        return items.Length > 0
            ? [.. items.Select(item => known.TryGetValue(item, out var found) ? found : throw new UsageException($"{name}: '{item}' is not one of {string.Join(", ", known.Keys)}")).Distinct()]
            : throw new UsageException($"{name}: expected a comma-separated list, not '{value}'");
    }

    private static TimeSpan Seconds(string name, string value) =>
        TimeSpan.FromSeconds(OptionValues.Number(name, value, above: 0));
}
