using System.Globalization;

namespace GpuMux.Bench.Scheduling;

/// <summary>The table and summary lines for the terminal, and the raw results file with every timed step.</summary>
internal static class InteractiveReport
{
    private static readonly CultureInfo Invariant = CultureInfo.InvariantCulture;

    public static void WriteTables(TextWriter writer, InteractiveRun run)
    {
        WriteCases(writer, run);
        writer.WriteLine();
        foreach (var line in SummaryLines(run))
        {
            writer.WriteLine(line);
        }
    }

    /// <summary>Writes <c>interactive-&lt;utc time&gt;-&lt;backend&gt;.md</c> into <paramref name="directory"/> and returns its path.</summary>
    public static string WriteFile(InteractiveRun run, string directory)
    {
        using var file = ResultsFile.Create(directory, "interactive", run.Environment.StartedUtc, run.BackendKind, "Interactive step latency under a saturating batch tenant");
        file.Section(null, writer => WriteHeader(writer, run));
        file.Section("Summary", writer =>
        {
            foreach (var line in SummaryLines(run))
            {
                writer.WriteLine(line);
            }
        });
        file.Section("Per case (ms)", writer => WriteCases(writer, run));
        file.Section("Step samples (ms; times on the host's monotonic clock)", writer => WriteSamples(writer, run));
        return file.Path;
    }

    public static IEnumerable<string> SummaryLines(InteractiveRun run)
    {
        var idle = run.Idle;
        foreach (var loaded in run.Cases.Where(c => c.Case.IsLoaded))
        {
            yield return string.Create(Invariant,
                $"{loaded.Case.Name} ({loaded.Case.InteractiveClass} step, {loaded.Case.BatchClass} load) / idle, queued to end: p50 {Ratio(loaded.QueuedToEnd.Median, idle.QueuedToEnd.Median)}, p99 {Ratio(loaded.QueuedToEnd.P99, idle.QueuedToEnd.P99)}; client: p50 {Ratio(loaded.Client.Median, idle.Client.Median)}, p99 {Ratio(loaded.Client.P99, idle.Client.P99)}");
        }
        if (run.Cases.FirstOrDefault(c => c.Case.BatchClass == c.Case.InteractiveClass) is { } shared
            && run.Cases.FirstOrDefault(c => c.Case.IsLoaded && c.Case.BatchClass != c.Case.InteractiveClass) is { } separate)
        {
            yield return string.Create(Invariant,
                $"what the classes buy, {shared.Case.Name} / {separate.Case.Name}, queued to end: p50 {Ratio(shared.QueuedToEnd.Median, separate.QueuedToEnd.Median)}, p99 {Ratio(shared.QueuedToEnd.P99, separate.QueuedToEnd.P99)}; client: p50 {Ratio(shared.Client.Median, separate.Client.Median)}, p99 {Ratio(shared.Client.P99, separate.Client.P99)}");
        }
        yield return run.IsModelled
            ? "basis: modelled (Sim backend): stream priority takes effect at kernel boundaries, so a step waits out the batch kernel running when it arrives in every case; the figures show the scheduler's part (what the classes buy in ordering), not what a GPU's stream priorities add"
            : "basis: measured on the GPU (CUDA events and the host clock): the scheduler's ordering and what the device's stream priorities buy together";
    }

    private static void WriteHeader(TextWriter writer, InteractiveRun run)
    {
        var options = run.Options;
        var fields = run.Environment.Fields().Concat(DeviceFields.Of(run.BackendDescription, run.CudaUnavailableReason, run.Device)).ToList();
        fields.AddRange(
        [
            ["parameters", string.Create(Invariant, $"--steps {options.Steps} --step-us {options.StepMicroseconds} --batch-us {options.BatchMicroseconds} --batch-in-flight {options.BatchInFlight} --max-think-us {options.MaxThinkMicroseconds} --seed {options.Seed}")],
            ["engine", "in-process GpuEngine, a fresh one per case, default scheduling options (classes interactive, standard, batch; two steps per class on the device)"],
            ["interactive", string.Create(Invariant, $"uid {InteractiveBenchmark.InteractiveUid}, one session under a lease in the case's class: {InteractiveBenchmark.WarmupSteps} untimed steps, then {options.Steps} timed, one at a time, each after a seeded uniform think time in [0, {options.MaxThinkMicroseconds}] us; a step is one spin kernel of {options.StepMicroseconds} us, one warp")],
            ["batch", string.Create(Invariant, $"uid {InteractiveBenchmark.BatchUid}, one session under a lease in the case's class, started after the warm-up, {options.BatchInFlight} steps submitted at all times, each one spin kernel of {options.BatchMicroseconds} us over two blocks of the most threads per block per multiprocessor")],
            ["cases", string.Join("; ", run.Cases.Select(c => c.Case.IsLoaded ? $"{c.Case.Name}: interactive in {c.Case.InteractiveClass}, batch in {c.Case.BatchClass}" : $"{c.Case.Name}: interactive in {c.Case.InteractiveClass}, no batch"))],
            ["queued to end", "the completion's end event minus the engine's queueing of the step (at Submit)"],
            ["one origin", "device times are put on the host's monotonic clock, the one Submit is timed on, through an anchor event the engine records on an idle stream of its own every second: its host time is the midpoint of the record and the wait for it, the narrowest of 4 tries, so within a few microseconds; before, one try, and a preemption inside it put anchors up to 0.3 ms early and ends before their submission (negative queued to end)"],
            ["client", "from just before Submit to the delivery of the completion by the engine thread"],
            ["device", "the step's own start and end events"],
            ["batch busy", "batch steps completed x their spin time / the time the batch ran: the device's share spent on batch work"],
            ["percentiles", "nearest rank"],
            ["figures", run.IsModelled ? "modelled (Sim backend: the spin kernel takes exactly its time; stream priority at kernel boundaries)" : "measured"],
        ]);
        TextTable.Write(writer, fields, rightAligned: []);
    }

    private static void WriteCases(TextWriter writer, InteractiveRun run)
    {
        var rows = new List<string[]>
        {
            new[] { "case", "interactive", "batch", "steps", "q->end p50", "p99", "max", "client p50", "p99", "max", "device p50", "batch steps", "batch busy" },
        };
        foreach (var measured in run.Cases)
        {
            var (queued, client) = (measured.QueuedToEnd, measured.Client);
            rows.Add(
            [
                measured.Case.Name,
                measured.Case.InteractiveClass,
                measured.Case.BatchClass ?? "-",
                measured.Steps.Count.ToString(Invariant),
                Ms(queued.Median),
                Ms(queued.P99),
                Ms(queued.Max),
                Ms(client.Median),
                Ms(client.P99),
                Ms(client.Max),
                Ms(measured.Device.Median),
                measured.Batch is { } batch ? batch.Steps.ToString(Invariant) : "-",
                measured.Batch is { } busy ? busy.BusyShare.ToString("F3", Invariant) : "-",
            ]);
        }
        TextTable.Write(writer, rows, rightAligned: [3, 4, 5, 6, 7, 8, 9, 10, 11, 12]);
    }

    private static void WriteSamples(TextWriter writer, InteractiveRun run)
    {
        var rows = new List<string[]> { new[] { "case", "step", "queued to end", "client", "device" } };
        foreach (var measured in run.Cases)
        {
            for (var i = 0; i < measured.Steps.Count; i++)
            {
                var step = measured.Steps[i];
                rows.Add([measured.Case.Name, (i + 1).ToString(Invariant), Ms(step.QueuedToEndMilliseconds), Ms(step.ClientMilliseconds), Ms(step.DeviceMilliseconds)]);
            }
        }
        TextTable.Write(writer, rows, rightAligned: [1, 2, 3, 4]);
    }

    private static string Ratio(double loaded, double idle) => (loaded / idle).ToString("F2", Invariant) + "x";

    private static string Ms(double milliseconds) => milliseconds.ToString("F3", Invariant);
}
