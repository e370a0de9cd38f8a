using System.Text.Json.Serialization.Metadata;
using GpuMux.Cli.Output;
using GpuMux.Cli.Tenants;
using GpuMux.Client;
using Spectre.Console;

namespace GpuMux.Cli.Commands;

/// <summary><c>gpumuxctl tenants</c>: each uid's usage against its limits, and its accounting.</summary>
internal sealed class TenantsCommand(Terminal terminal) : DaemonReportCommand<TenantsReport>(
    "tenants", "Show each tenant (uid): device memory, leases and GPU time of the last 24 hours against its limits, and its steps, swaps, bytes moved and queueing delays.", terminal)
{
    protected override JsonTypeInfo<TenantsReport> JsonType => CliJsonContext.Default.TenantsReport;

    protected override async Task<TenantsReport> QueryAsync(GpuMuxClient client, string socketPath, CancellationToken cancellationToken) =>
        TenantsReport.From(socketPath, await client.GetTenantsAsync(cancellationToken));

    protected override void Render(IAnsiConsole console, TenantsReport report) => TenantsRenderer.Write(console, report, DateTimeOffset.UtcNow);
}
