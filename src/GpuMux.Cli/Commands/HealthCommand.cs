using System.CommandLine;
using GpuMux.Cli.Output;
using GpuMux.Cli.Status;
using GpuMux.Client;

namespace GpuMux.Cli.Commands;

/// <summary>
/// <c>gpumuxctl health</c>: one line, and 0 when the daemon answers and serves a device, 1 when not,
/// for scripts and probes. The status request it sends is answered by the engine thread, so a
/// daemon whose socket accepts but whose engine is stuck does not pass.
/// </summary>
internal sealed class HealthCommand : Command
{
    private readonly Terminal _terminal;

    private readonly Option<string?> _host = HostOption.Create();

    public HealthCommand(Terminal terminal)
        : base("health", "Exit 0 when gpumuxd answers and has a usable device, 1 when not: for scripts and health probes.")
    {
        _terminal = terminal;
        Add(_host);
        SetAction(RunAsync);
    }

    private async Task<int> RunAsync(ParseResult parse, CancellationToken cancellationToken)
    {
        if (HostOption.Resolve(parse, _host, _terminal) is not { } socketPath)
        {
            return ExitCodes.Usage;
        }

        try
        {
            var (client, unavailable) = await DaemonConnector.TryConnectAsync(socketPath, DaemonConnector.ClientName, inspectOnly: true, cancellationToken);
            if (client is null)
            {
                ErrorOutput.Write(_terminal.Error, $"unhealthy: {unavailable!.Message}");
                return ExitCodes.CheckFailed;
            }

            await using (client)
            {
                var status = await client.GetStatusAsync(cancellationToken);
                if (status.TotalBytes == 0)
                {
                    ErrorOutput.Write(_terminal.Error, $"unhealthy: gpumuxd at {socketPath} reports no device memory on {status.Device.Name}.");
                    return ExitCodes.CheckFailed;
                }

                _terminal.PlainOut.WriteLine(
                    $"healthy: gpumuxd at {socketPath}, device {status.Device.Ordinal} ({status.Device.Name}), {Counts.Of(status.SessionsTotal, "session")}");
                return ExitCodes.Ok;
            }
        }
        catch (Exception e) when (e is GpuMuxException or GpuMuxConnectionException)
        {
            ErrorOutput.Write(_terminal.Error, $"unhealthy: {e.Message}");
            return ExitCodes.CheckFailed;
        }
    }
}
