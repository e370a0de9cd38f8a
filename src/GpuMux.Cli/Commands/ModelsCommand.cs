using System.Text.Json.Serialization.Metadata;
using GpuMux.Cli.Models;
using GpuMux.Cli.Output;
using GpuMux.Client;
using Spectre.Console;

namespace GpuMux.Cli.Commands;

/// <summary><c>gpumuxctl models</c>: the daemon's memory pools and every session's models, with their residency and swaps.</summary>
internal sealed class ModelsCommand(Terminal terminal) : DaemonReportCommand<ModelsReport>(
    "models", "Show the daemon's device and pinned pools, and every session's models: where they wait, whether they are on the device, how they swap.", terminal)
{
    protected override JsonTypeInfo<ModelsReport> JsonType => CliJsonContext.Default.ModelsReport;

    protected override async Task<ModelsReport> QueryAsync(GpuMuxClient client, string socketPath, CancellationToken cancellationToken) =>
        ModelsReport.From(socketPath, await client.ListModelsAsync(cancellationToken));

    protected override void Render(IAnsiConsole console, ModelsReport report) => ModelsRenderer.Write(console, report, DateTimeOffset.UtcNow);
}
