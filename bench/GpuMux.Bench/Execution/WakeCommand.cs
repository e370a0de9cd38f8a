using System.Globalization;
using GpuMux.Gpu;

namespace GpuMux.Bench.Execution;

/// <summary>
/// <c>GpuMux.Bench wake</c>: how soon a step's end reaches its client. In-process, from the end on
/// the device to the completion handed to the session's sink; through gpumuxd, to the completion
/// frame written by the daemon and to the completion delivered to a .NET client; each p50 and p99
/// on an idle device and beside tenants that keep it busy, with the engine thread's CPU time and
/// wake-ups, idle and busy, all in one results file.
/// </summary>
internal static class WakeCommand
{
    public static int Run(IReadOnlyList<string> args)
    {
        if (args is ["--client", var socket, var steps])
        {
            return SocketWakeClient.Run(socket, int.Parse(steps, CultureInfo.InvariantCulture));
        }
        if (WakeOptions.Parse(args) is not { } options)
        {
            Console.Error.WriteLine(WakeOptions.Usage);
            return 2;
        }

        var environment = RunEnvironment.Capture();
        var inProcess = InProcessWake.Measure(options);
        var socketRows = SocketWake.Measure(options);

        using var file = ResultsFile.Create(options.OutputDirectory, "wake", environment.StartedUtc, GpuBackendKind.Sim, "Completion wake-up: step end to completion written and delivered");
        file.Section(null, w => TextTable.Write(w, [.. environment.Fields(), ["steps per case", options.Steps.ToString(CultureInfo.InvariantCulture)]], rightAligned: []));
        var shape = $"{options.Steps} steps of {WakeOptions.StepMicroseconds} µs, one at a time; under load, other sessions keep {WakeOptions.LoadStepMicroseconds} µs steps on the device";
        var inProcessTable = Table(inProcess, socket: false);
        var socketTable = Table(socketRows, socket: true);
        file.Section($"In-process, to the session's sink: {shape} (goal: p99 well under {WakeRow.GoalP99Us} µs, since the socket adds its own; no CPU while idle)", w => w.Write(inProcessTable));
        file.Section($"Through gpumuxd, to the frame written and to the .NET client's caller resumed: {shape} (goal: p99 <= {WakeRow.GoalP99Us} µs delivered; no CPU while idle)", w => w.Write(socketTable));
        Console.WriteLine(inProcessTable);
        Console.WriteLine(socketTable);
        Console.WriteLine($"wrote {file.Path}");
        return 0;
    }

    private static string Table(List<WakeRow> rows, bool socket)
    {
        var text = new StringWriter(CultureInfo.InvariantCulture);
        var columns = WakeRow.Header(socket);
        TextTable.Write(text, [columns, .. rows.Select(row => row.Cells(socket))], rightAligned: [.. Enumerable.Range(1, columns.Length - 1)]);
        return text.ToString();
    }
}
