using System.Globalization;

namespace GpuMux.Bench.Accounting;

/// <summary>The summary for the terminal, and the raw results file with every tenant of every case.</summary>
internal static class ChargeReport
{
    private const double ErrorGoal = 0.01;
    private const double FairnessGoal = 0.95;

    private static readonly CultureInfo Invariant = CultureInfo.InvariantCulture;

    public static void WriteSummary(TextWriter writer, ChargeRun run)
    {
        var rows = new List<string[]> { new[] { "tenants", "steps", "worst |error|", "goal", "Jain min", "Jain mean", "goal", "windows" } };
        foreach (var @case in run.Cases)
        {
            rows.Add(
            [
                F($"{@case.Tenants}"),
                F($"{@case.Rows.Sum(r => r.Steps)}"),
                F($"{@case.WorstError * 100:F2}%"),
                F($"<= {ErrorGoal * 100:F0}%"),
                F($"{@case.WorstWindow:F3}"),
                F($"{(@case.Windows.Count == 0 ? double.NaN : @case.Windows.Average()):F3}"),
                F($">= {FairnessGoal:F2}"),
                F($"{@case.Windows.Count}"),
            ]);
        }
        TextTable.Write(writer, rows, rightAligned: [0, 1, 2, 4, 5, 7]);
        writer.WriteLine(F($"one more mark (a record and a query of an event on an idle stream): {run.MarkNanoseconds / 1e3:F2} us on the engine thread; a step of n ops has n + 1 marks (2 before)"));
    }

    /// <summary>Writes <c>charge-&lt;utc time&gt;-&lt;backend&gt;.md</c> into <paramref name="directory"/> and returns its path.</summary>
    public static string WriteFile(ChargeRun run, string directory)
    {
        using var file = ResultsFile.Create(directory, "charge", run.Environment.StartedUtc, run.BackendKind, "Charged device time against kernel time, and weighted fairness");
        file.Section(null, writer => WriteHeader(writer, run));
        file.Section("Summary", writer => WriteSummary(writer, run));
        foreach (var @case in run.Cases)
        {
            file.Section(F($"{@case.Tenants} tenants"), writer =>
            {
                var rows = new List<string[]> { new[] { "uid", "weight", "steps", "kernel s", "charged s", "error", "charged / weight s" } };
                rows.AddRange(@case.Rows.Select(r => new[]
                {
                    F($"{r.Uid}"), F($"{r.Weight}"), F($"{r.Steps}"), F($"{r.KernelSeconds:F4}"), F($"{r.ChargedSeconds:F4}"), F($"{r.Error * 100:F2}%"), F($"{r.ChargedSeconds / r.Weight:F4}"),
                }));
                TextTable.Write(writer, rows, rightAligned: [1, 2, 3, 4, 5, 6]);
                writer.WriteLine("Jain's index per window: " + string.Join(" ", @case.Windows.Select(w => F($"{w:F4}"))));
            });
        }
        return file.Path;
    }

    private static void WriteHeader(TextWriter writer, ChargeRun run)
    {
        var options = run.Options;
        var fields = run.Environment.Fields().Concat(DeviceFields.Of(run.BackendDescription, run.CudaUnavailableReason, run.Device)).ToList();
        fields.AddRange(
        [
            ["parameters", F($"--tenants {string.Join(',', options.Tenants)} --seconds {options.Seconds} --step-us {options.StepMicroseconds} --in-flight {options.InFlight}")],
            ["engine", "in-process GpuEngine, a fresh one per case, default scheduling options; every tenant's session in the standard class"],
            ["tenants", F($"uids from {ChargeBenchmark.FirstUid}; tenant i has weight 1 + i mod 4 and keeps {options.InFlight} steps submitted, each one spin kernel of one warp lasting (1 + i mod 3) x {options.StepMicroseconds} us")],
            ["kernel s", run.IsModelled
                ? F($"steps completed x their kernel's modelled device time: the spin time and the Sim's fixed {run.KernelOverhead.TotalMicroseconds:F0} us per operation (SimDeviceOptions.OperationLatency)")
                : "steps completed x their spin time (the spin kernel waits on the device's clock)"],
            ["charged s", "the tenant's GPU seconds as the engine booked them (gpumuxctl tenants), over the whole case"],
            ["error", "(charged - kernel) / kernel; goal within 1%"],
            ["Jain's index", "(sum x)^2 / (n sum x^2), x a tenant's charged time over its weight in one 1-second window; the first second is left out; goal at least 0.95"],
            ["mark", "a record and a query of one event on an idle stream, timed over 20000 repeats on a context of its own"],
            ["figures", run.IsModelled ? "modelled (Sim backend)" : "measured"],
        ]);
        TextTable.Write(writer, fields, rightAligned: []);
    }

    private static string F(FormattableString text) => text.ToString(Invariant);
}
