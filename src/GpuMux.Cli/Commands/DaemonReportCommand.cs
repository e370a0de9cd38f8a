using System.CommandLine;
using System.Text.Json.Serialization.Metadata;
using GpuMux.Cli.Output;
using GpuMux.Cli.Status;
using GpuMux.Client;
using Spectre.Console;

namespace GpuMux.Cli.Commands;

/// <summary>
/// A command that asks the daemon for one report and shows it, as tables for people or as one JSON
/// object for scripts (<c>status</c>, <c>models</c>, <c>tenants</c>): one place for <c>--host</c>
/// and <c>-o</c>, and for how a daemon that is not there, or that fails, is reported and with which
/// exit code. Its session only reads the reports, so a daemon at its session limit still answers.
/// </summary>
internal abstract class DaemonReportCommand<TReport> : Command
    where TReport : class
{
    private readonly Terminal _terminal;

    private readonly Option<string?> _host = HostOption.Create();

    private readonly Option<OutputFormat> _output = OutputOption.Create();

    protected DaemonReportCommand(string name, string description, Terminal terminal)
        : base(name, description)
    {
        _terminal = terminal;
        Add(_host);
        Add(_output);
        SetAction(RunAsync);
    }

    protected abstract JsonTypeInfo<TReport> JsonType { get; }

    protected abstract Task<TReport> QueryAsync(GpuMuxClient client, string socketPath, CancellationToken cancellationToken);

    protected abstract void Render(IAnsiConsole console, TReport report);

    private async Task<int> RunAsync(ParseResult parse, CancellationToken cancellationToken)
    {
        if (HostOption.Resolve(parse, _host, _terminal) is not { } socketPath)
        {
            return ExitCodes.Usage;
        }

        TReport report;
        try
        {
            var (client, unavailable) = await DaemonConnector.TryConnectAsync(socketPath, DaemonConnector.ClientName, inspectOnly: true, cancellationToken);
            if (client is null)
            {
                ErrorOutput.Write(_terminal.Error, unavailable!.Message);
                return ExitCodes.DaemonUnavailable;
            }

            await using (client)
            {
                report = await QueryAsync(client, socketPath, cancellationToken);
            }
        }
        // NotSupportedException: the daemon speaks an older protocol that lacks the request.
        catch (Exception e) when (e is GpuMuxException or GpuMuxConnectionException or NotSupportedException)
        {
            ErrorOutput.Write(_terminal.Error, e.Message);
            return ExitCodes.DaemonError;
        }

        ReportOutput.Write(_terminal, parse.GetValue(_output), report, JsonType, Render);
        return ExitCodes.Ok;
    }
}
