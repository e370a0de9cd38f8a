using System.CommandLine;
using GpuMux.Daemon.Configuration;

namespace GpuMux.Daemon.CommandLine;

/// <summary>
/// gpumuxd's command line: its options, <c>--help</c> and <c>--version</c>, and any setting as
/// <c>--Section:Name=value</c> (<see cref="SettingArguments"/>). An option it does not know is a
/// usage error.
/// </summary>
internal sealed class DaemonCommand : RootCommand
{
    private readonly Option<string?> _config = new("--config")
    {
        Description = $"The configuration file to read instead of {ConfigurationFile.DefaultPath}; it must exist.",
        HelpName = "FILE",
    };

    private readonly Option<string?> _checkConfig = new("--check-config")
    {
        Description = "Check the configuration (FILE, else the file the daemon would read, with the environment and these arguments) "
            + "and exit: 0 when it is valid, 78 with a line for each problem when it is not. Nothing is started.",
        HelpName = "FILE",
        Arity = ArgumentArity.ZeroOrOne,
    };

    private readonly Option<bool> _verbose = new("--verbose")
    {
        Description = "Show a failure to start with its stack trace.",
    };

    private readonly SettingSwitch[] _switches =
    [
        new("--socket", "PATH", "Socket:Path", "The Unix socket to listen on."),
        new("--backend", "auto|cuda|sim", "Device:Backend", "The device to run on: a GPU (cuda), the simulator (sim), or a GPU where there is one (auto)."),
        new("--device", "N", "Device:Ordinal", "Which GPU, as CUDA numbers them."),
        new("--sim-memory-mib", "N", "Sim:MemoryMiB", "The simulated device's memory in MiB."),
    ];

    public DaemonCommand()
        : base("gpumuxd: shares this host's NVIDIA GPU among client processes over a Unix socket.\n"
            + "Any setting can be given as --Section:Name=value (docs/configuration.md), e.g. --Limits:MaxSessions=64.")
    {
        Add(_config);
        Add(_checkConfig);
        Add(_verbose);
        foreach (var setting in _switches)
        {
            Add(setting.Option);
        }

        // The run itself is the caller's: this action only marks a parse that asks for one.
        SetAction(_ => 0);
    }

    /// <summary>
    /// Parses <paramref name="args"/>: the arguments of a run, or null when they ask for something
    /// else (help, the version) or are wrong, which <paramref name="parse"/>'s action then answers.
    /// </summary>
    public DaemonArguments? Parse(IReadOnlyList<string> args, out ParseResult parse)
    {
        var (settings, rest) = SettingArguments.Split(args);
        parse = Parse(rest);
        if (parse.Errors.Count > 0 || !ReferenceEquals(parse.Action, Action))
        {
            return null;
        }

        foreach (var setting in _switches)
        {
            if (parse.GetValue(setting.Option) is { } value)
            {
                settings.Add(new(setting.Key, value));
            }
        }

        var checkOnly = parse.GetResult(_checkConfig) is not null;
        return new DaemonArguments(settings, parse.GetValue(_checkConfig) ?? parse.GetValue(_config), checkOnly, parse.GetValue(_verbose));
    }

    /// <summary>The arguments of a run for a host embedded in another program, which has no usage to show.</summary>
    public static DaemonArguments ParseRun(IReadOnlyList<string> args) =>
        new DaemonCommand().Parse(args, out var parse) is { CheckOnly: false } arguments
            ? arguments
            : throw new ArgumentException($"not arguments of a gpumuxd run: {string.Join(" ", parse.Errors.Select(e => e.Message).DefaultIfEmpty(string.Join(" ", args)))}", nameof(args));

    /// <summary>An option that stands for one setting.</summary>
    private sealed record SettingSwitch(string Name, string ValueName, string Key, string Description)
    {
        public Option<string?> Option { get; } = new(Name) { Description = $"{Description} Same as --{Key}=...", HelpName = ValueName };
    }
}
