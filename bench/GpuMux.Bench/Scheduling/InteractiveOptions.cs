using GpuMux.Gpu;

namespace GpuMux.Bench.Scheduling;

internal sealed record InteractiveOptions
{
    public const string Usage = """
        usage: GpuMux.Bench interactive [--backend auto|cuda|sim] [--steps 500] [--step-us 200]
                                        [--batch-us 2000] [--batch-in-flight 4] [--max-think-us 3000]
                                        [--seed 1] [--out DIR]

          --backend          auto: CUDA where present, otherwise the simulator (default auto)
          --steps            interactive steps timed per case (default 500), after 100 untimed ones
          --step-us          the interactive step: one spin kernel of one warp, this long (default 200)
          --batch-us         each batch step: one spin kernel filling the device, this long (default 2000)
          --batch-in-flight  batch steps kept submitted at all times (default 4)
          --max-think-us     the interactive session waits a seeded uniform time in [0, this] before
                             each step (default 3000), so that its steps fall at random points of
                             the batch kernels
          --seed             seed of the think times (default 1)
          --out              also write a raw results file, interactive-<utc time>-<backend>.md, into DIR

        Interactive step latency under a saturating batch tenant against an idle device, in one run,
        each case on an engine of its own: (a) idle: only the interactive session (uid 1001, an
        interactive lease) submitting one step at a time; (b) loaded: the same, while a batch
        tenant (uid 1002, a batch lease) keeps the device saturated; (c) one class: the same load,
        with both sessions' leases in the standard class, which shows what the classes buy.
        Latency is the engine's (the completion's end event minus its queueing) and the client's
        (from Submit to the delivery of the completion). On the Sim backend, stream priority takes
        effect at kernel boundaries, so this measures the scheduler's part; on a GPU, also what
        stream priorities buy.
        """;

    public BackendPreference Backend { get; init; } = BackendPreference.Auto;

    public int Steps { get; init; } = 500;

    public int StepMicroseconds { get; init; } = 200;

    public int BatchMicroseconds { get; init; } = 2000;

    public int BatchInFlight { get; init; } = 4;

    public int MaxThinkMicroseconds { get; init; } = 3000;

    public int Seed { get; init; } = 1;

    public string? OutputDirectory { get; init; }

    public static InteractiveOptions Parse(IReadOnlyList<string> args)
    {
        var options = new InteractiveOptions();
        foreach (var (name, value) in OptionValues.Pairs(args))
        {
            options = name switch
            {
                "--backend" => options with { Backend = OptionValues.Backend(value) },
                "--steps" => options with { Steps = OptionValues.Count(name, value, minimum: 1) },
                "--step-us" => options with { StepMicroseconds = OptionValues.Count(name, value, minimum: 1) },
                "--batch-us" => options with { BatchMicroseconds = OptionValues.Count(name, value, minimum: 1) },
                "--batch-in-flight" => options with { BatchInFlight = OptionValues.Count(name, value, minimum: 1) },
                "--max-think-us" => options with { MaxThinkMicroseconds = OptionValues.Count(name, value, minimum: 0) },
                "--seed" => options with { Seed = OptionValues.Count(name, value, minimum: 0) },
                "--out" => options with { OutputDirectory = value },
                _ => throw new UsageException($"unknown option '{name}'"),
            };
        }
        return options;
    }
}
