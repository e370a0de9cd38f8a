using System.CommandLine;
using GpuMux.Cli.Demo;
using GpuMux.Cli.Output;
using GpuMux.Cli.Status;
using GpuMux.Client;
using GpuMux.Gpu;
using GpuMux.Protocol.Messages;
using Spectre.Console;

namespace GpuMux.Cli.Commands;

/// <summary>
/// <c>gpumuxctl demo</c>: several clients share the GPU through gpumuxd at once, each with its own
/// workload on the built-in kernels, every result checked bit for bit against the host reference.
/// Uses the running daemon, or starts one in this process when none answers.
/// </summary>
internal sealed class DemoCommand : Command
{
    private static readonly Style Loud = new(Color.Yellow, decoration: Decoration.Bold);
    private static readonly Style Success = new(Color.Green, decoration: Decoration.Bold);
    private static readonly Style Failure = new(Color.Red, decoration: Decoration.Bold);
    private static readonly Style Dim = new(decoration: Decoration.Dim);

    private const string ClientName = "gpumuxctl demo";

    private readonly Terminal _terminal;

    private readonly Option<string?> _host = HostOption.Create();

    private readonly Option<int> _sessions = CountOption.Create("--sessions", "Client sessions to run at once, each on its own connection.", 4);

    private readonly Option<int> _steps = CountOption.Create("--steps", "Steps each session submits.", 200);

    private readonly Option<BackendPreference> _backend = ChoiceOption.Create(
        "--backend", "The backend of a daemon the demo starts itself (a running daemon keeps its own).", BackendPreference.Auto);

    public DemoCommand(Terminal terminal)
        : base("demo", "Run several clients at once through gpumuxd, each step's results verified against the host reference.")
    {
        _terminal = terminal;
        Add(_host);
        Add(_sessions);
        Add(_steps);
        Add(_backend);
        SetAction(RunAsync);
    }

    private async Task<int> RunAsync(ParseResult parse, CancellationToken cancellationToken)
    {
        if (HostOption.Resolve(parse, _host, _terminal) is not { } socketPath)
        {
            return ExitCodes.Usage;
        }

        DemoDaemon? daemon = null;
        try
        {
            var (probe, unavailable) = await DaemonConnector.TryConnectAsync(socketPath, ClientName, inspectOnly: false, cancellationToken);
            string whichDaemon;
            if (probe is null)
            {
                daemon = await DemoDaemon.StartAsync(parse.GetValue(_backend), cancellationToken);
                whichDaemon = $"No gpumuxd at {socketPath} ({unavailable!.Reason}): started one in this process on {daemon.SocketPath}.";
                socketPath = daemon.SocketPath;
                probe = await GpuMuxClient.ConnectAsync(new GpuMuxClientOptions { Host = socketPath, ClientName = ClientName }, cancellationToken);
            }
            else
            {
                whichDaemon = $"Using the gpumuxd at {socketPath}.";
            }

            bool simulated;
            await using (probe)
            {
                simulated = probe.Backend == BackendKind.Sim;
                WriteBackendLine(probe);
            }

            _terminal.Out.Write(new Text(whichDaemon, Dim));
            _terminal.Out.WriteLine();
            return await RunSessionsAsync(socketPath, parse.GetValue(_sessions), parse.GetValue(_steps), simulated, cancellationToken);
        }
        catch (GpuException e) when (e.Status == GpuStatus.NoDevice)
        {
            ErrorOutput.Write(_terminal.Error, $"cannot start gpumuxd: {e.Message}");
            return ExitCodes.BackendUnavailable;
        }
        catch (Exception e) when (e is GpuMuxException or GpuMuxConnectionException)
        {
            ErrorOutput.Write(_terminal.Error, e.Message);
            return ExitCodes.DaemonError;
        }
        finally
        {
            if (daemon is not null)
            {
                await daemon.DisposeAsync();
            }
        }
    }

    private async Task<int> RunSessionsAsync(string socketPath, int sessionCount, int steps, bool simulated, CancellationToken cancellationToken)
    {
        var sessions = Enumerable.Range(0, sessionCount).Select(i => new DemoSession(DemoWorkloads.For(i), steps)).ToArray();
        var stats = sessions.Select(s => s.Stats).ToArray();
        _terminal.Out.WriteLine($"{Counts.Of(sessionCount, "session")} of {Counts.Of(steps, "step")}, each on its own connection:");
        var work = Task.WhenAll(sessions.Select(s => Task.Run(() => s.RunAsync(socketPath, cancellationToken), cancellationToken)));
        await DemoProgress.ShowUntilAsync(_terminal.Out, stats, simulated, work);
        await work;

        var summary = DemoProgress.Snapshots(stats);
        _terminal.Out.Write(DemoTable.Build(summary, simulated, "Summary"));
        return WriteVerdict(summary, sessionCount * steps) ? ExitCodes.Ok : ExitCodes.CheckFailed;
    }

    private void WriteBackendLine(GpuMuxClient client)
    {
        var device = client.Devices.Count > 0 ? client.Devices[0].Name : "no device";
        if (client.Backend == BackendKind.Sim)
        {
            _terminal.Out.Write(new Text(
                $"Sim backend: no GPU ({client.BackendDescription}) — results are real, timings are modelled.", Loud));
        }
        else
        {
            _terminal.Out.Write(new Text($"CUDA: {device} ({client.BackendDescription})"));
        }

        _terminal.Out.WriteLine();
    }

    /// <returns>Whether every step of every session ran and verified.</returns>
    private bool WriteVerdict(IReadOnlyList<SessionSnapshot> sessions, int expected)
    {
        foreach (var session in sessions.Where(s => s.LastError is not null))
        {
            ErrorOutput.Write(_terminal.Error, $"{session.Workload}: {session.LastError}");
        }

        var verified = sessions.Sum(s => s.Verified);
        var mismatches = sessions.Sum(s => s.Mismatches);
        var errors = sessions.Sum(s => s.Errors);
        var passed = verified == expected;
        _terminal.Out.Write(passed
            ? new Text($"All {expected} steps verified bit-exact against the host reference.", Success)
            : new Text($"{verified} of {expected} steps verified: {mismatches} mismatched, {errors} errors.", Failure));
        _terminal.Out.WriteLine();
        return passed;
    }
}
