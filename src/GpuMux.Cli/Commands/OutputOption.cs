using System.CommandLine;
using GpuMux.Cli.Output;

namespace GpuMux.Cli.Commands;

/// <summary><c>-o table|wide|json</c>: how a report is shown.</summary>
internal static class OutputOption
{
    public static Option<OutputFormat> Create() => ChoiceOption.Create(
        "--output",
        "Tables that fit the terminal (table), tables with every column (wide), or one JSON object for scripts (json).",
        OutputFormat.Table,
        "-o");
}
