using System.Globalization;

namespace GpuMux.Bench.Memory;

/// <summary>The summary table for the terminal, and the raw results file with every sample.</summary>
internal static class PoolReport
{
    private static readonly CultureInfo Invariant = CultureInfo.InvariantCulture;

    public static void WriteTable(TextWriter writer, PoolRun run)
    {
        var rows = new List<string[]>
        {
            new[] { "page MiB", "model GiB", "swap-in maps", "access calls", "eviction unmaps", "swap-in ms (median)", "eviction ms (median)", "basis" },
        };
        foreach (var m in run.Measurements)
        {
            rows.Add(
            [
                Mib(m.PageBytes),
                (m.ModelBytes >> 30).ToString(Invariant),
                m.SwapInCalls.Maps.ToString(Invariant),
                m.SwapInCalls.AccessChanges.ToString(Invariant),
                m.EvictionCalls.Unmaps.ToString(Invariant),
                Milliseconds(m.SwapIn.Median),
                Milliseconds(m.Eviction.Median),
                run.Basis,
            ]);
        }
        TextTable.Write(writer, rows, rightAligned: [0, 1, 2, 3, 4, 5, 6]);
    }

    /// <summary>Writes <c>pool-&lt;utc time&gt;-&lt;backend&gt;.md</c> into <paramref name="directory"/> and returns its path.</summary>
    public static string WriteFile(PoolRun run, string directory)
    {
        using var file = ResultsFile.Create(directory, "pool", run.Environment.StartedUtc, run.BackendKind, "Device pool: driver calls and time of a swap-in's mapping, per page size");
        file.Section(null, writer => TextTable.Write(writer, Header(run), rightAligned: []));
        file.Section("summary", writer => WriteTable(writer, run));
        file.Section("making the pool (one physical allocation per page)", writer => TextTable.Write(writer, Creations(run), rightAligned: [0, 1, 2]));
        file.Section("samples (ms)", writer => TextTable.Write(writer, Samples(run), rightAligned: [0, 1, 2, 3, 4]));
        return file.Path;
    }

    private static List<string[]> Header(PoolRun run)
    {
        var options = run.Options;
        var fields = run.Environment.Fields().ToList();
        fields.AddRange(DeviceFields.Of(run.BackendDescription, run.CudaUnavailableReason, run.Device));
        fields.AddRange(
        [
            ["parameters", string.Create(Invariant, $"--page-mib {string.Join(',', options.PageMib)} --model-gib {string.Join(',', options.ModelGib)} --repeats {options.Repeats}")],
            ["method", "DevicePagePool as the engine uses it: a model's range reserved once, then TryMap (one cuMemMap per page at offset 0, one cuMemSetAccess for the range) and Unmap (one cuMemUnmap per page), each timed on the host; nothing is copied"],
            ["figures", run.Basis],
        ]);
        return fields;
    }

    private static List<string[]> Creations(PoolRun run)
    {
        var rows = new List<string[]> { new[] { "page MiB", "pages", "ms" } };
        rows.AddRange(run.Creations.Select(c => new[] { Mib(c.PageBytes), c.Pages.ToString(Invariant), Milliseconds(c.Milliseconds) }));
        return rows;
    }

    private static List<string[]> Samples(PoolRun run)
    {
        var rows = new List<string[]> { new[] { "page MiB", "model GiB", "repeat", "swap-in ms", "eviction ms" } };
        foreach (var m in run.Measurements)
        {
            for (var i = 0; i < m.SwapInMilliseconds.Count; i++)
            {
                rows.Add([Mib(m.PageBytes), (m.ModelBytes >> 30).ToString(Invariant), (i + 1).ToString(Invariant), Milliseconds(m.SwapInMilliseconds[i]), Milliseconds(m.EvictionMilliseconds[i])]);
            }
        }
        return rows;
    }

    private static string Mib(ulong bytes) => (bytes >> 20).ToString(Invariant);

    private static string Milliseconds(double milliseconds) => milliseconds.ToString("F3", Invariant);
}
