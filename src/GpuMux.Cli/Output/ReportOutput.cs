using System.Text.Json.Serialization.Metadata;
using Spectre.Console;

namespace GpuMux.Cli.Output;

/// <summary>A report as <c>-o</c> asks: tables that fit the terminal, every column, or one JSON object.</summary>
internal static class ReportOutput
{
    public static void Write<TReport>(
        Terminal terminal, OutputFormat format, TReport report, JsonTypeInfo<TReport> json, Action<IAnsiConsole, TReport> render)
    {
        switch (format)
        {
            case OutputFormat.Json:
                JsonOutput.Write(terminal.PlainOut, report, json);
                break;
            case OutputFormat.Wide:
                render(terminal.Unbounded(), report);
                break;
            default:
                render(terminal.Out, report);
                break;
        }
    }
}
