using GpuMux.Gpu;

namespace GpuMux.Bench.Models;

internal sealed record SwapOptions
{
    public const string Usage = """
        usage: GpuMux.Bench swap [--backend auto|cuda|sim] [--sizes-mib 256,1024,4096] [--chunk-mib 8]
                                 [--repeats 5] [--sweep-chunks-mib 2,8,32,64|none] [--out DIR]

          --backend           auto: CUDA where present, otherwise the simulator (default auto)
          --sizes-mib         model sizes, in MiB (default 256,1024,4096 on CUDA; 256,1024 on Sim,
                              whose device memory is host memory: 4096 needs a machine with about
                              5 times that in free RAM)
          --chunk-mib         largest single copy of a swap-in, the engine's SwapChunkBytes (default 8)
          --repeats           swap-ins per model, and cold and resident steps per size (default 5)
          --sweep-chunks-mib  chunk sizes to time swap-ins of the 1024 MiB model with, each on an
                              engine of its own (default 2,8,32,64; none to skip)
          --out               also write a raw results file, swap-<utc time>-<backend>.md, into DIR

        Models are safetensors files in memfds: f16 layers of 4096 columns, about 32 MiB each, one
        layer group each. Two models of each size, A and B, are registered with an in-process
        engine whose device pool holds one of them, so that each use of the other is a full
        swap-in from the pinned pool. Compared, in the same run: the pinned and pageable
        host-to-device copies of the bandwidth probe, of the same bytes; and a cold step (a gemv
        per layer, each waiting only for its own layer) against the swap-in and the resident
        step done one after the other.
        """;

    public BackendPreference Backend { get; init; } = BackendPreference.Auto;

    /// <summary>Null: the backend's default.</summary>
    public IReadOnlyList<int>? SizesMib { get; init; }

    public int ChunkMib { get; init; } = 8;

    public int Repeats { get; init; } = 5;

    public IReadOnlyList<int> SweepChunksMib { get; init; } = [2, 8, 32, 64];

    public string? OutputDirectory { get; init; }

    /// <summary>The model the chunk sweep swaps in.</summary>
    public static int SweepSizeMib => 1024;

    /// <summary>Below this, two models could share the device pool with the session's buffers, and nothing would be swapped.</summary>
    private static int MinimumSizeMib => 32;

    public static IReadOnlyList<int> DefaultSizesMib(GpuBackendKind backend) =>
        backend == GpuBackendKind.Sim ? [256, 1024] : [256, 1024, 4096];

    public static SwapOptions Parse(IReadOnlyList<string> args)
    {
        var options = new SwapOptions();
        foreach (var (name, value) in OptionValues.Pairs(args))
        {
            options = name switch
            {
                "--backend" => options with { Backend = OptionValues.Backend(value) },
                "--sizes-mib" => options with { SizesMib = OptionValues.Counts(name, value, MinimumSizeMib) },
                "--chunk-mib" => options with { ChunkMib = OptionValues.Count(name, value, minimum: 1) },
                "--repeats" => options with { Repeats = OptionValues.Count(name, value, minimum: 1) },
                "--sweep-chunks-mib" => options with { SweepChunksMib = value == "none" ? [] : OptionValues.Counts(name, value, minimum: 1) },
                "--out" => options with { OutputDirectory = value },
                _ => throw new UsageException($"unknown option '{name}'"),
            };
        }
        return options;
    }
}
