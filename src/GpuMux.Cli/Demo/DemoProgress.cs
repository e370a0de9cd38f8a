using System.Diagnostics;
using System.Globalization;
using Spectre.Console;

namespace GpuMux.Cli.Demo;

/// <summary>
/// The demo while it runs: a live table on a terminal, or a block of plain lines every
/// <see cref="LineInterval"/> elsewhere (a log, a pipe).
/// </summary>
internal static class DemoProgress
{
    private static readonly TimeSpan LiveInterval = TimeSpan.FromMilliseconds(200);
    private static readonly TimeSpan LineInterval = TimeSpan.FromSeconds(2);

    public static Task ShowUntilAsync(IAnsiConsole console, IReadOnlyList<SessionStats> sessions, bool simulated, Task work) =>
        console.Profile.Capabilities.Interactive
            ? LiveAsync(console, sessions, simulated, work)
            : LinesAsync(console, sessions, work);

    private static Task LiveAsync(IAnsiConsole console, IReadOnlyList<SessionStats> sessions, bool simulated, Task work) =>
        console.Live(DemoTable.Build(Snapshots(sessions), simulated))
            .AutoClear(true)
            .StartAsync(async context =>
            {
                while (!work.IsCompleted)
                {
                    await Task.WhenAny(work, Task.Delay(LiveInterval));
                    context.UpdateTarget(DemoTable.Build(Snapshots(sessions), simulated));
                }
            });

    private static async Task LinesAsync(IAnsiConsole console, IReadOnlyList<SessionStats> sessions, Task work)
    {
        var started = Stopwatch.GetTimestamp();
        while (!work.IsCompleted)
        {
            await Task.WhenAny(work, Task.Delay(LineInterval));
            if (work.IsCompleted)
            {
                return;
            }

            var elapsed = Stopwatch.GetElapsedTime(started).TotalSeconds.ToString("0.0", CultureInfo.InvariantCulture);
            var snapshots = Snapshots(sessions);
            for (var i = 0; i < snapshots.Count; i++)
            {
                console.WriteLine($"[{elapsed} s] {DemoTable.Line(i, snapshots[i])}");
            }
        }
    }

    public static IReadOnlyList<SessionSnapshot> Snapshots(IReadOnlyList<SessionStats> sessions) =>
        [.. sessions.Select(s => s.Snapshot())];
}
