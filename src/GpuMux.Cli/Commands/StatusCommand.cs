using System.Text.Json.Serialization.Metadata;
using GpuMux.Cli.Output;
using GpuMux.Cli.Status;
using GpuMux.Client;
using Spectre.Console;

namespace GpuMux.Cli.Commands;

/// <summary><c>gpumuxctl status</c>: the daemon's backend, device memory, class queues and sessions.</summary>
internal sealed class StatusCommand(Terminal terminal) : DaemonReportCommand<DaemonStatus>(
    "status", "Show the daemon's device, its memory, its priority classes' queues, and every connected session with what it holds and runs, its class and its lease.", terminal)
{
    protected override JsonTypeInfo<DaemonStatus> JsonType => CliJsonContext.Default.DaemonStatus;

    protected override async Task<DaemonStatus> QueryAsync(GpuMuxClient client, string socketPath, CancellationToken cancellationToken) =>
        DaemonStatus.From(socketPath, await client.GetStatusAsync(cancellationToken), client.SessionId);

    protected override void Render(IAnsiConsole console, DaemonStatus report) => StatusRenderer.Write(console, report, DateTimeOffset.UtcNow);
}
