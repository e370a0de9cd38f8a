using System.CommandLine;
using GpuMux.Cli.Output;
using GpuMux.Cli.Status;
using GpuMux.Client;

namespace GpuMux.Cli.Commands;

/// <summary><c>gpumuxctl status</c>: the daemon's backend, device memory and sessions.</summary>
internal sealed class StatusCommand : Command
{
    private readonly Terminal _terminal;

    private readonly Option<string?> _host = HostOption.Create();

    private readonly Option<OutputFormat> _output = ChoiceOption.Create(
        "--output", "A table for people or one JSON object for scripts.", OutputFormat.Table, "-o");

    public StatusCommand(Terminal terminal)
        : base("status", "Show the daemon's device, its memory, and every connected session with what it holds and runs.")
    {
        _terminal = terminal;
        Add(_host);
        Add(_output);
        SetAction(RunAsync);
    }

    private async Task<int> RunAsync(ParseResult parse, CancellationToken cancellationToken)
    {
        if (HostOption.Resolve(parse, _host, _terminal) is not { } socketPath)
        {
            return ExitCodes.Usage;
        }

        DaemonStatus status;
        try
        {
            var (client, unavailable) = await DaemonConnector.TryConnectAsync(socketPath, DaemonConnector.ClientName, cancellationToken);
            if (client is null)
            {
                ErrorOutput.Write(_terminal.Error, unavailable!.Message);
                return ExitCodes.DaemonUnavailable;
            }

            await using (client)
            {
                status = DaemonStatus.From(socketPath, await client.GetStatusAsync(cancellationToken), client.SessionId);
            }
        }
        catch (Exception e) when (e is GpuMuxException or GpuMuxConnectionException)
        {
            ErrorOutput.Write(_terminal.Error, e.Message);
            return ExitCodes.DaemonError;
        }

        if (parse.GetValue(_output) == OutputFormat.Json)
        {
            JsonOutput.Write(_terminal.PlainOut, status, CliJsonContext.Default.DaemonStatus);
        }
        else
        {
            StatusRenderer.Write(_terminal.Out, status);
        }

        return ExitCodes.Ok;
    }
}
