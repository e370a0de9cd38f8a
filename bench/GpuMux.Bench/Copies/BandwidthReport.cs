using System.Globalization;
using System.Text;

namespace GpuMux.Bench.Copies;

/// <summary>The summary table for the terminal, and the raw results file that keeps every sample with its provenance.</summary>
internal static class BandwidthReport
{
    private static readonly CultureInfo Invariant = CultureInfo.InvariantCulture;

    public static void WriteTable(TextWriter writer, BandwidthRun run)
    {
        var rows = new List<string[]>
        {
            new[] { "direction", "host memory", "MiB", "median GB/s", "min GB/s", "max GB/s", "median ms", "data", "basis" },
        };
        foreach (var measurement in run.Measurements)
        {
            var rates = measurement.Rates;
            rows.Add(
            [
                measurement.Case.DirectionName,
                measurement.Case.MemoryName,
                run.Options.SizeMib.ToString(Invariant),
                Rate(rates.Median),
                Rate(rates.Min),
                Rate(rates.Max),
                Milliseconds(measurement.Times.Median),
                measurement.Verified ? "ok" : "WRONG",
                run.Basis,
            ]);
        }
        TextTable.Write(writer, rows, rightAligned: [2, 3, 4, 5, 6]);
    }

    /// <summary>Writes <c>bandwidth-&lt;utc time&gt;-&lt;backend&gt;.txt</c> into <paramref name="directory"/> and returns its path.</summary>
    public static string WriteFile(BandwidthRun run, string directory)
    {
        Directory.CreateDirectory(directory);
        var name = string.Create(Invariant, $"bandwidth-{run.Environment.StartedUtc:yyyyMMdd-HHmmss}-{run.BackendKind.ToString().ToLowerInvariant()}.txt");
        var path = Path.Combine(directory, name);
        using var writer = new StreamWriter(path, append: false, new UTF8Encoding(encoderShouldEmitUTF8Identifier: false));
        WriteHeader(writer, run);
        writer.WriteLine();
        writer.WriteLine("samples");
        WriteSamples(writer, run);
        writer.WriteLine();
        writer.WriteLine($"verification (checksums of the destination after the timed copies against the source data, per chunk of {HostBuffer.ChunkBytes >> 20} MiB)");
        WriteVerification(writer, run);
        writer.WriteLine();
        writer.WriteLine("summary");
        WriteTable(writer, run);
        return path;
    }

    private static void WriteHeader(TextWriter writer, BandwidthRun run)
    {
        var device = run.Device;
        var options = run.Options;
        var fields = run.Environment.Fields().ToList();
        fields.Add(["backend", run.BackendDescription]);
        if (run.CudaUnavailableReason is { } reason)
        {
            fields.Add(["cuda", $"unavailable: {reason}"]);
        }
        fields.AddRange(
        [
            ["device", device.Name],
            ["compute capability", device.ComputeCapability.ToString()],
            ["device memory", string.Create(Invariant, $"{device.TotalMemoryBytes / (double)(1UL << 30):F1} GiB ({device.TotalMemoryBytes} bytes)")],
            ["PCI bus id", device.PciBusId],
            ["parameters", string.Create(Invariant, $"--size-mib {options.SizeMib} ({options.Bytes} bytes) --repeats {options.Repeats} --warmup {options.Warmup}")],
            ["method", "one copy per sample on one stream, timed by two device events around it; host data random, never zero"],
            ["units", "GB/s = 1e9 bytes per second; ms = milliseconds"],
            ["figures", run.Basis],
        ]);
        TextTable.Write(writer, fields, rightAligned: []);
    }

    private static void WriteSamples(TextWriter writer, BandwidthRun run)
    {
        var rows = new List<string[]> { new[] { "direction", "host memory", "repeat", "ms", "GB/s", "basis" } };
        foreach (var measurement in run.Measurements)
        {
            for (var i = 0; i < measurement.Milliseconds.Count; i++)
            {
                var milliseconds = measurement.Milliseconds[i];
                rows.Add(
                [
                    measurement.Case.DirectionName,
                    measurement.Case.MemoryName,
                    (i + 1).ToString(Invariant),
                    Milliseconds(milliseconds),
                    Rate(measurement.Rate(milliseconds)),
                    run.Basis,
                ]);
            }
        }
        TextTable.Write(writer, rows, rightAligned: [2, 3, 4]);
    }

    private static void WriteVerification(TextWriter writer, BandwidthRun run)
    {
        var rows = new List<string[]> { new[] { "direction", "host memory", "data", "chunks", "wrong" } };
        foreach (var measurement in run.Measurements)
        {
            rows.Add(
            [
                measurement.Case.DirectionName,
                measurement.Case.MemoryName,
                measurement.Verified ? "ok" : "WRONG",
                measurement.ExpectedChecksums.Count.ToString(Invariant),
                measurement.WrongChunks.ToString(Invariant),
            ]);
        }
        TextTable.Write(writer, rows, rightAligned: [3, 4]);
    }

    private static string Rate(double gigabytesPerSecond) => gigabytesPerSecond.ToString("F2", Invariant);

    private static string Milliseconds(double milliseconds) => milliseconds.ToString("F3", Invariant);
}
