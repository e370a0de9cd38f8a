using GpuMux.Gpu;

namespace GpuMux.Bench.Accounting;

internal sealed record ChargeOptions
{
    public const string Usage = """
        usage: GpuMux.Bench charge [--backend auto|cuda|sim] [--tenants 2,8,32] [--seconds 6]
                                   [--step-us 500] [--in-flight 2] [--out DIR]

          --backend    auto: CUDA where present, otherwise the simulator (default auto)
          --tenants    the cases: how many tenants share one class, each case on an engine of its own (default 2,8,32)
          --seconds    how long each case keeps every tenant busy (default 6); the first second is not windowed
          --step-us    the shortest step: tenant i's steps are one spin kernel of one warp, (1 + i mod 3) x this long (default 500)
          --in-flight  steps each tenant keeps submitted at all times (default 2)
          --out        also write a raw results file, charge-<utc time>-<backend>.md, into DIR

        Tenants of unequal weights (tenant i has weight 1 + i mod 4) keep one class busy with spin
        steps; the benchmark reports each tenant's charged device time against its steps' own kernel
        time (on the Sim, the modelled kernel time, the spin and a fixed cost; goal: within 1%), and Jain's fairness index of the
        tenants' charged time over their weights in each 1-second window (goal: at least 0.95).
        """;

    public BackendPreference Backend { get; init; } = BackendPreference.Auto;

    public int[] Tenants { get; init; } = [2, 8, 32];

    public int Seconds { get; init; } = 6;

    public int StepMicroseconds { get; init; } = 500;

    public int InFlight { get; init; } = 2;

    public string? OutputDirectory { get; init; }

    public static ChargeOptions Parse(IReadOnlyList<string> args)
    {
        var options = new ChargeOptions();
        foreach (var (name, value) in OptionValues.Pairs(args))
        {
            options = name switch
            {
                "--backend" => options with { Backend = OptionValues.Backend(value) },
                "--tenants" => options with { Tenants = OptionValues.Counts(name, value, minimum: 1) },
                "--seconds" => options with { Seconds = OptionValues.Count(name, value, minimum: 2) },
                "--step-us" => options with { StepMicroseconds = OptionValues.Count(name, value, minimum: 1) },
                "--in-flight" => options with { InFlight = OptionValues.Count(name, value, minimum: 1) },
                "--out" => options with { OutputDirectory = value },
                _ => throw new UsageException($"unknown option '{name}'"),
            };
        }
        return options;
    }
}
