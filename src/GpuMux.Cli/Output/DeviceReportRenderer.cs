using System.Globalization;
using GpuMux.Cli.Devices;
using Spectre.Console;
using Spectre.Console.Rendering;

namespace GpuMux.Cli.Output;

/// <summary>
/// The report for people, laid out like nvidia-smi: the backend, a table of devices, then each
/// device's self-check and a one-line verdict.
/// </summary>
internal static class DeviceReportRenderer
{
    private static readonly CultureInfo Invariant = CultureInfo.InvariantCulture;
    private static readonly Style Warning = new(Color.Yellow, decoration: Decoration.Bold);
    private static readonly Style Failure = new(Color.Red, decoration: Decoration.Bold);
    private static readonly Style Success = new(Color.Green);
    private static readonly Style Dim = new(decoration: Decoration.Dim);

    public static void WriteFallbackWarning(IAnsiConsole console, string reason)
    {
        console.Write(new Text($"No CUDA GPU: {reason}. Running on the Sim backend (simulated device; timings are simulated, not measured on a GPU).", Warning));
        console.WriteLine();
        console.WriteLine();
    }

    public static void Write(IAnsiConsole console, DevicesReport report)
    {
        WriteBackend(console, report.Backend);
        WriteDeviceTable(console, report.Devices);
        foreach (var device in report.Devices)
        {
            console.WriteLine();
            if (device.Error is not null)
            {
                console.Write(new Text($"GPU {device.Ordinal}: FAILED: {device.Error}", Failure));
                console.WriteLine();
                continue;
            }
            WriteCheckTable(console, device);
        }
        console.Write(Verdict(report));
        console.WriteLine();
    }

    // The driver and the compiler line by line where the backend has them; the Sim's description
    // alone, which says that it is simulated.
    private static void WriteBackend(IAnsiConsole console, BackendReport backend)
    {
        if (backend.DriverVersion is null)
        {
            Fact(console, "Backend", new Text(backend.Description));
            return;
        }
        Fact(console, "Backend", new Text($"{backend.Kind.ToUpperInvariant()}, driver {backend.DriverVersion}"));
        if (backend.Compiler is { } compiler)
        {
            Fact(console, "Compiler", compiler.Version is { } version
                ? new Text($"{compiler.Name} {version}, loaded from {compiler.Path}")
                : new Text($"{compiler.Name} unavailable: {compiler.UnavailableReason}. PTX and cubins still load; CUDA C is refused.", Warning));
        }
    }

    private static void Fact(IAnsiConsole console, string name, Text value)
    {
        console.Write(new Text($"{name}: ", Dim));
        console.Write(value);
        console.WriteLine();
    }

    // The ordinal and the PCI bus id say which device a row is and stay whole; the name wraps.
    private static void WriteDeviceTable(IAnsiConsole console, IReadOnlyList<DeviceReport> devices) =>
        new FittedTable<DeviceReport>()
            .Add("GPU", ColumnKind.Number, Columns.Always, d => Plain(d.Ordinal.ToString(Invariant)))
            .Add("Name", ColumnKind.Text, 90, d => Plain(d.Name))
            .Add("CC", ColumnKind.Word, 60, d => Plain(d.ComputeCapability))
            .Add("Total", ColumnKind.Number, 80, d => Plain(Mebibytes(d.TotalMemoryBytes)))
            .Add("Free", ColumnKind.Number, 75, d => Plain(d.FreeMemoryBytes is { } free ? Mebibytes(free) : "?"))
            .Add("SMs", ColumnKind.Number, 50, d => Plain(d.MultiprocessorCount.ToString(Invariant)))
            .Add("PCI bus id", ColumnKind.Word, Columns.Always, d => Plain(d.PciBusId))
            .Add("Priorities (high..low)", ColumnKind.Word, 20, d => Plain(d.StreamPriorities is { } p ? $"{p.Greatest}..{p.Least}" : "?"))
            .Write(console, devices);

    private static void WriteCheckTable(IAnsiConsole console, DeviceReport device)
    {
        console.Write(new Text($"GPU {device.Ordinal} self-check", Dim));
        console.WriteLine();
        new FittedTable<CheckResult>()
            .Add("Check", ColumnKind.Word, Columns.Always, check => Plain(check.Name))
            .Add("Result", ColumnKind.Word, Columns.Always, check => check.Passed ? new Text("ok", Success) : new Text("FAILED", Failure))
            .Add(device.Simulated ? "Simulated ms" : "ms", ColumnKind.Number, 50, check => Plain(check.ElapsedMilliseconds is { } ms ? ms.ToString("0.000", Invariant) : ""))
            .Add("Detail", ColumnKind.Text, 90, check => check.Passed ? Plain(Measurement(check, device.Simulated)) : new Text(check.Detail ?? "", Failure))
            .Write(console, device.Checks);
    }

    private static Text Verdict(DevicesReport report)
    {
        var checks = report.Devices.Sum(d => d.Checks.Count);
        var failed = report.Devices.Sum(d => d.Checks.Count(c => !c.Passed) + (d.Error is null ? 0 : 1));
        var devices = report.Devices.Count == 1 ? "1 device" : $"{report.Devices.Count} devices";
        return failed == 0
            ? new Text($"All {checks} checks passed on {devices}.", Success)
            : new Text($"{failed} of {checks} checks FAILED on {devices}.", Failure);
    }

    private static string Measurement(CheckResult check, bool simulated) =>
        check.GigabytesPerSecond is { } gbps
            ? $"{gbps.ToString("0.00", Invariant)} GB/s{(simulated ? " (simulated)" : "")}"
            : "";

    private static string Mebibytes(ulong bytes) => $"{(bytes >> 20).ToString("N0", Invariant)} MiB";

    private static IRenderable Plain(string text) => new Text(text);
}
