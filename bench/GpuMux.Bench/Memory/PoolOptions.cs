using GpuMux.Gpu;

namespace GpuMux.Bench.Memory;

internal sealed record PoolOptions
{
    public const string Usage = """
        usage: GpuMux.Bench pool [--backend auto|cuda|sim] [--page-mib 2,8,32,64] [--model-gib 1,8,16] [--repeats 5] [--out DIR]

          --backend    auto: CUDA where present, otherwise the simulator (default auto)
          --page-mib   device pool page sizes to compare, in MiB, each a multiple of 2 (default 2,8,32,64)
          --model-gib  model sizes, in GiB; the pool is as large as the largest (default 1,8,16)
          --repeats    swap-ins and evictions timed per model and page size (default 5)
          --out        also write a raw results file, pool-<utc time>-<backend>.md, into DIR
        """;

    public BackendPreference Backend { get; init; } = BackendPreference.Auto;

    public IReadOnlyList<int> PageMib { get; init; } = [2, 8, 32, 64];

    public IReadOnlyList<int> ModelGib { get; init; } = [1, 8, 16];

    public int Repeats { get; init; } = 5;

    public string? OutputDirectory { get; init; }

    public ulong PoolBytes => (ulong)ModelGib.Max() << 30;

    public static PoolOptions Parse(IReadOnlyList<string> args)
    {
        var options = new PoolOptions();
        foreach (var (name, value) in OptionValues.Pairs(args))
        {
            options = name switch
            {
                "--backend" => options with { Backend = OptionValues.Backend(value) },
                "--page-mib" => options with { PageMib = PageSizes(name, value) },
                "--model-gib" => options with { ModelGib = OptionValues.Counts(name, value, minimum: 1) },
                "--repeats" => options with { Repeats = OptionValues.Count(name, value, minimum: 1) },
                "--out" => options with { OutputDirectory = value },
                _ => throw new UsageException($"unknown option '{name}'"),
            };
        }
        return options;
    }

    private static int[] PageSizes(string name, string value)
    {
        var sizes = OptionValues.Counts(name, value, minimum: 2);
        return sizes.All(size => size % 2 == 0) ? sizes : throw new UsageException($"{name}: page sizes are multiples of 2 MiB, not '{value}'");
    }
}
