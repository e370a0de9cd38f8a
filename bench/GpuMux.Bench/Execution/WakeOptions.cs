using System.Globalization;

namespace GpuMux.Bench.Execution;

/// <summary>The options of <c>GpuMux.Bench wake</c>, and the shape of the steps and the load both halves share.</summary>
internal sealed record WakeOptions(string OutputDirectory, int Steps, TimeSpan Idle)
{
    public const string Usage = """
        usage: GpuMux.Bench wake [--out DIR] [--steps N] [--idle-seconds S]

          --out           where to write wake-<utc time>-sim.md (default bench/results)
          --steps         steps per case, one at a time (default 2000, at least 100)
          --idle-seconds  how long the engine is watched with nothing to do (default 2)

        In-process, then over the socket to a .NET client in a process of its own; "under load",
        two other connections (sessions, in-process) keep a 5 ms step each on the device.
        Run it from a Release build: dotnet run -c Release --project bench/GpuMux.Bench -- wake --out bench/results
        """;

    public const ulong StepMicroseconds = 300;
    public const ulong LoadStepMicroseconds = 5000;
    public const string IdleDeviceCase = "idle device";
    public const string LoadedCase = "under load";

    public string IdleCase => $"idle {Idle.TotalSeconds.ToString(CultureInfo.InvariantCulture)} s";

    public static WakeOptions? Parse(IReadOnlyList<string> args)
    {
        var options = new WakeOptions("bench/results", 2000, TimeSpan.FromSeconds(2));
        for (var i = 0; i < args.Count; i += 2)
        {
            switch (args[i], i + 1 < args.Count ? args[i + 1] : null)
            {
                case ("--out", { } output):
                    options = options with { OutputDirectory = output };
                    break;
                case ("--steps", { } value) when int.TryParse(value, CultureInfo.InvariantCulture, out var steps) && steps >= 100:
                    options = options with { Steps = steps };
                    break;
                case ("--idle-seconds", { } value) when double.TryParse(value, CultureInfo.InvariantCulture, out var seconds) && seconds is > 0 and <= 600:
                    options = options with { Idle = TimeSpan.FromSeconds(seconds) };
                    break;
                default:
                    return null;
            }
        }
        return options;
    }
}
