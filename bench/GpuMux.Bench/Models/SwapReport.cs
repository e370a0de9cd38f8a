using System.Globalization;

namespace GpuMux.Bench.Models;

/// <summary>The tables and summary lines for the terminal, and the raw results file that keeps every sample with its provenance.</summary>
internal static class SwapReport
{
    private static readonly CultureInfo Invariant = CultureInfo.InvariantCulture;

    public static void WriteTables(TextWriter writer, SwapRun run)
    {
        WriteSizes(writer, run);
        if (run.Sweep.Count > 0)
        {
            writer.WriteLine();
            WriteSweep(writer, run);
        }
        writer.WriteLine();
        foreach (var line in SummaryLines(run))
        {
            writer.WriteLine(line);
        }
    }

    /// <summary>Writes <c>swap-&lt;utc time&gt;-&lt;backend&gt;.md</c> into <paramref name="directory"/> and returns its path.</summary>
    public static string WriteFile(SwapRun run, string directory)
    {
        using var file = ResultsFile.Create(directory, "swap", run.Environment.StartedUtc, run.BackendKind, "Swap-in and cold first step");
        file.Section(null, writer => WriteHeader(writer, run));
        file.Section("Summary", writer =>
        {
            foreach (var line in SummaryLines(run))
            {
                writer.WriteLine(line);
            }
        });
        file.Section("Per size", writer => WriteSizes(writer, run));
        if (run.Sweep.Count > 0)
        {
            file.Section(string.Create(Invariant, $"Chunk sweep ({SwapOptions.SweepSizeMib} MiB model, swap-ins only, an engine per chunk size)"), writer => WriteSweep(writer, run));
        }
        file.Section("The engine's swap-in figures (its events around each swap-in's copies), after the swap-in steps", writer => WriteEngineFigures(writer, run));
        file.Section("Baseline samples (GpuMux.Bench bandwidth's probe, host to device)", writer => WriteBaselineSamples(writer, run));
        file.Section("Step samples (device time: the step's start and end events; submit to end: from Submit, on the host's monotonic clock)", writer => WriteStepSamples(writer, run));
        return file.Path;
    }

    public static IEnumerable<string> SummaryLines(SwapRun run)
    {
        foreach (var size in run.Sizes)
        {
            var baseline = run.BaselineFor(size);
            var rate = size.EngineRate ?? size.StepTimedRate;
            var source = size.EngineRate is null ? "step-timed median" : "engine median";
            var fraction = rate / baseline.PinnedRate;
            var goal = size.Geometry.SizeMib >= 1024
                ? string.Create(Invariant, $"; goal >= {SwapRun.Goal:F2}: {(fraction >= SwapRun.Goal ? "met" : "NOT met")}")
                : string.Empty;
            yield return string.Create(Invariant,
                $"swap-in {size.Geometry.SizeMib} MiB: {Rate(rate)} GB/s ({source}) = {fraction:F3} of the pinned host-to-device peak ({Rate(baseline.PinnedRate)} GB/s), {rate / baseline.PageableRate:F2}x the pageable copy ({Rate(baseline.PageableRate)} GB/s){goal} [{run.ShortBasis}]");
        }
        foreach (var size in run.Sizes)
        {
            yield return string.Create(Invariant,
                $"pipelining gain {size.Geometry.SizeMib} MiB: {size.PipeliningGain:F2}x = sequential {Ms(size.SequentialMilliseconds)} ms (swap-in {Ms(size.SwapMilliseconds.Median)} + resident step {Ms(size.ResidentMilliseconds)}) / cold first step {Ms(size.ColdMilliseconds)} ms [{run.ShortBasis}]");
        }
        if (run.Sweep.Count > 0)
        {
            var rates = run.Sweep.Select(r => (Run: r, Rate: r.EngineRate ?? r.StepTimedRate)).ToList();
            var best = rates.MaxBy(r => r.Rate);
            var peak = run.BaselineFor(best.Run).PinnedRate;
            var all = string.Join(", ", rates.Select(r => string.Create(Invariant, $"{r.Run.ChunkMib} MiB {Rate(r.Rate)}")));
            yield return string.Create(Invariant,
                $"chunk sweep {best.Run.Geometry.SizeMib} MiB: fastest chunk {best.Run.ChunkMib} MiB at {Rate(best.Rate)} GB/s = {best.Rate / peak:F3} of the pinned peak (GB/s by chunk: {all}) [{run.ShortBasis}]");
        }
        if (!run.AllVerified)
        {
            yield return "FAILED: some results did not match the host reference (see the data columns)";
        }
    }

    private static void WriteHeader(TextWriter writer, SwapRun run)
    {
        var options = run.Options;
        var fields = run.Environment.Fields().Concat(DeviceFields.Of(run.BackendDescription, run.CudaUnavailableReason, run.Device)).ToList();
        var sweep = options.SweepChunksMib.Count == 0 ? "none" : string.Join(',', options.SweepChunksMib);
        fields.AddRange(
        [
            ["parameters", string.Create(Invariant, $"--sizes-mib {string.Join(',', run.SizesMib)} --chunk-mib {options.ChunkMib} --repeats {options.Repeats} --sweep-chunks-mib {sweep}")],
            ["models", string.Create(Invariant, $"safetensors in a memfd; f16 layers of rows x {ModelGeometry.Cols}, about {ModelGeometry.LayerTargetBytes >> 20} MiB each, one layer group each; two models per size (A, B), staged in the pinned pool")],
            ["engine", "in-process GpuEngine; device pool = one model's pages + 16 MiB, so that each use of the other model is a full swap-in"],
            ["swap-in", "a step bound to the evicted model whose one launch is gemv_f16 over the first row of its last layer: it waits for the whole swap-in; A and B by turns, every swap counted (no warm-up)"],
            ["cold step", "a step of one gemv_f16 per layer (each waits only for its own layer group) bound to the evicted model; resident: the same step again at once"],
            ["sequential", "median swap-in step + median resident step: the transfer, then the compute; gain = sequential / median cold step"],
            ["timing", "a step's device time runs from its start event, recorded on its stream just after the engine queued the swap-in's copies on the copy stream, to its end event: cold and swap-in steps alike leave out the host time spent queuing those copies and mapping the pool's pages (submit to end has it)"],
            ["baselines", "the bandwidth command's probe, host to device, of the model's bytes: pinned (the device's peak) and pageable (cuMemcpyHtoDAsync from malloc'd memory, staged by the driver); 2 warm-up copies"],
            ["verification", "every step's outputs (the first and last layers' y, or the swap-in step's one row) bit for bit against KernelReference.Gemv; the probe's copies by checksum"],
            ["units", "GB/s = 1e9 bytes per second; ms = milliseconds; MiB = 2^20 bytes"],
            ["figures", run.Basis],
        ]);
        TextTable.Write(writer, fields, rightAligned: []);
    }

    private static void WriteSizes(TextWriter writer, SwapRun run)
    {
        var rows = new List<string[]>
        {
            new[] { "MiB", "layers", "chunk MiB", "pinned GB/s", "pageable GB/s", "swap-in GB/s", "of pinned", "swap-in ms", "resident ms", "sequential ms", "cold ms", "gain", "data", "basis" },
        };
        foreach (var size in run.Sizes)
        {
            var baseline = run.BaselineFor(size);
            var rate = size.EngineRate ?? size.StepTimedRate;
            rows.Add(
            [
                Count(size.Geometry.SizeMib),
                Count(size.Geometry.Layers),
                Count(size.ChunkMib),
                Rate(baseline.PinnedRate),
                Rate(baseline.PageableRate),
                Rate(rate),
                (rate / baseline.PinnedRate).ToString("F3", Invariant),
                Ms(size.SwapMilliseconds.Median),
                Ms(size.ResidentMilliseconds),
                Ms(size.SequentialMilliseconds),
                Ms(size.ColdMilliseconds),
                size.PipeliningGain.ToString("F2", Invariant) + "x",
                size.AllVerified && baseline.Verified ? "ok" : "WRONG",
                run.ShortBasis,
            ]);
        }
        TextTable.Write(writer, rows, rightAligned: [0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11]);
    }

    private static void WriteSweep(TextWriter writer, SwapRun run)
    {
        var rows = new List<string[]>
        {
            new[] { "MiB", "chunk MiB", "swap-in GB/s", "of pinned", "step-timed GB/s", "swap-in ms", "min ms", "max ms", "data", "basis" },
        };
        foreach (var sweep in run.Sweep)
        {
            var rate = sweep.EngineRate ?? sweep.StepTimedRate;
            var times = sweep.SwapMilliseconds;
            rows.Add(
            [
                Count(sweep.Geometry.SizeMib),
                Count(sweep.ChunkMib),
                Rate(rate),
                (rate / run.BaselineFor(sweep).PinnedRate).ToString("F3", Invariant),
                Rate(sweep.StepTimedRate),
                Ms(times.Median),
                Ms(times.Min),
                Ms(times.Max),
                sweep.AllVerified ? "ok" : "WRONG",
                run.ShortBasis,
            ]);
        }
        TextTable.Write(writer, rows, rightAligned: [0, 1, 2, 3, 4, 5, 6, 7]);
    }

    private static void WriteEngineFigures(TextWriter writer, SwapRun run)
    {
        var rows = new List<string[]> { new[] { "MiB", "chunk MiB", "model", "bytes", "groups", "tier", "swap-ins", "median GB/s" } };
        foreach (var measured in run.Sizes.Concat(run.Sweep))
        {
            foreach (var model in measured.EngineFigures)
            {
                rows.Add(
                [
                    Count(measured.Geometry.SizeMib),
                    Count(measured.ChunkMib),
                    model.Name,
                    model.Bytes.ToString(Invariant),
                    Count(model.Groups),
                    model.Tier.ToString(),
                    model.SwapCount.ToString(Invariant),
                    model.MedianSwapInBytesPerSecond is { } rate ? Rate(rate) : "-",
                ]);
            }
        }
        TextTable.Write(writer, rows, rightAligned: [0, 1, 3, 4, 6, 7]);
    }

    private static void WriteBaselineSamples(TextWriter writer, SwapRun run)
    {
        var rows = new List<string[]> { new[] { "MiB", "host memory", "repeat", "ms", "GB/s", "data" } };
        foreach (var baseline in run.Baselines.Values.OrderBy(b => b.Bytes))
        {
            foreach (var measurement in new[] { baseline.Pinned, baseline.Pageable })
            {
                for (var i = 0; i < measurement.Milliseconds.Count; i++)
                {
                    var milliseconds = measurement.Milliseconds[i];
                    rows.Add(
                    [
                        Count((int)(baseline.Bytes >> 20)),
                        measurement.Case.MemoryName,
                        Count(i + 1),
                        Ms(milliseconds),
                        measurement.Rate(milliseconds).ToString("F2", Invariant),
                        measurement.Verified ? "ok" : "WRONG",
                    ]);
                }
            }
        }
        TextTable.Write(writer, rows, rightAligned: [0, 2, 3, 4]);
    }

    private static void WriteStepSamples(TextWriter writer, SwapRun run)
    {
        var rows = new List<string[]> { new[] { "MiB", "chunk MiB", "step", "repeat", "model", "device ms", "submit to end ms", "GB/s", "data" } };
        foreach (var measured in run.Sizes.Concat(run.Sweep))
        {
            AddSamples(rows, measured, "swap-in", measured.Swaps, withRate: true);
            AddSamples(rows, measured, "cold", measured.Cold, withRate: false);
            AddSamples(rows, measured, "resident", measured.Resident, withRate: false);
        }
        TextTable.Write(writer, rows, rightAligned: [0, 1, 3, 5, 6, 7]);
    }

    private static void AddSamples(List<string[]> rows, ModelRun measured, string kind, IReadOnlyList<StepSample> samples, bool withRate)
    {
        for (var i = 0; i < samples.Count; i++)
        {
            var sample = samples[i];
            rows.Add(
            [
                Count(measured.Geometry.SizeMib),
                Count(measured.ChunkMib),
                kind,
                Count(i + 1),
                sample.Model,
                Ms(sample.GpuMilliseconds),
                Ms(sample.SubmitToEndMilliseconds),
                withRate ? Rate(measured.Geometry.Bytes / (sample.GpuMilliseconds / 1e3)) : "-",
                sample.Verified ? "ok" : "WRONG",
            ]);
        }
    }

    private static string Rate(double bytesPerSecond) => (bytesPerSecond / 1e9).ToString("F2", Invariant);

    private static string Ms(double milliseconds) => milliseconds.ToString("F3", Invariant);

    private static string Count(int value) => value.ToString(Invariant);
}
