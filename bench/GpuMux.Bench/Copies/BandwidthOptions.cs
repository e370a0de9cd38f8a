using GpuMux.Gpu;

namespace GpuMux.Bench.Copies;

internal sealed record BandwidthOptions
{
    public const string Usage = """
        usage: GpuMux.Bench bandwidth [--backend auto|cuda|sim] [--size-mib 1024] [--repeats 10] [--warmup 2] [--out DIR]

          --backend    auto: CUDA where present, otherwise the simulator (default auto)
          --size-mib   bytes per copy, in MiB (default 1024)
          --repeats    timed copies per direction and host memory kind (default 10)
          --warmup     untimed copies before them (default 2)
          --out        also write a raw results file, bandwidth-<utc time>-<backend>.txt, into DIR
        """;

    public BackendPreference Backend { get; init; } = BackendPreference.Auto;

    public int SizeMib { get; init; } = 1024;

    public int Repeats { get; init; } = 10;

    public int Warmup { get; init; } = 2;

    public string? OutputDirectory { get; init; }

    public ulong Bytes => (ulong)SizeMib << 20;

    public static BandwidthOptions Parse(IReadOnlyList<string> args)
    {
        var options = new BandwidthOptions();
        foreach (var (name, value) in OptionValues.Pairs(args))
        {
            options = name switch
            {
                "--backend" => options with { Backend = OptionValues.Backend(value) },
                "--size-mib" => options with { SizeMib = OptionValues.Count(name, value, minimum: 1) },
                "--repeats" => options with { Repeats = OptionValues.Count(name, value, minimum: 1) },
                "--warmup" => options with { Warmup = OptionValues.Count(name, value, minimum: 0) },
                "--out" => options with { OutputDirectory = value },
                _ => throw new UsageException($"unknown option '{name}'"),
            };
        }
        return options;
    }
}
