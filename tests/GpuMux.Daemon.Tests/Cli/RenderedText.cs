using Spectre.Console;

namespace GpuMux.Daemon.Tests.Cli;

/// <summary>What a renderer writes, as plain text: no colour, no escape codes.</summary>
internal static class RenderedText
{
    /// <param name="width">The terminal's columns; by default lines are as long as they need.</param>
    public static string Of(Action<IAnsiConsole> render, int width = 1000)
    {
        var writer = new StringWriter();
        render(PlainConsole(writer, width));
        return writer.ToString();
    }

    /// <summary>A console of <paramref name="width"/> columns that writes plain text to <paramref name="writer"/>.</summary>
    public static IAnsiConsole PlainConsole(TextWriter writer, int width)
    {
        var console = AnsiConsole.Create(new AnsiConsoleSettings
        {
            Out = new AnsiConsoleOutput(writer),
            Ansi = AnsiSupport.No,
            ColorSystem = ColorSystemSupport.NoColors,
            Interactive = InteractionSupport.No,
        });
        console.Profile.Width = width;
        return console;
    }

    /// <summary>The one line that contains <paramref name="marker"/>.</summary>
    public static string Line(string text, string marker) =>
        Assert.Single(text.Split('\n'), line => line.Contains(marker, StringComparison.Ordinal));
}
