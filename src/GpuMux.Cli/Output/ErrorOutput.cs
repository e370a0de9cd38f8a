using Spectre.Console;

namespace GpuMux.Cli.Output;

/// <summary>A command's failure, one line on standard error.</summary>
internal static class ErrorOutput
{
    private static readonly Style Failure = new(Color.Red, decoration: Decoration.Bold);

    public static void Write(IAnsiConsole console, string message)
    {
        console.Write(new Text($"gpumuxctl: {message}", Failure));
        console.WriteLine();
    }
}
