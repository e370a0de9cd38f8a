using Spectre.Console;

namespace GpuMux.Cli.Output;

/// <summary>
/// Standard output and error as the commands write to them: Spectre consoles for people, and the
/// raw writer for machine-readable output. A stream that is not a terminal gets no escape codes
/// at all, and <c>NO_COLOR</c> (https://no-color.org) turns colour off everywhere.
/// </summary>
internal sealed record Terminal(IAnsiConsole Out, IAnsiConsole Error, TextWriter PlainOut, TextWriter PlainError)
{
    public static Terminal FromProcess()
    {
        var noColor = !string.IsNullOrEmpty(Environment.GetEnvironmentVariable("NO_COLOR"));
        return new Terminal(
            Create(Console.Out, Console.IsOutputRedirected, noColor),
            Create(Console.Error, Console.IsErrorRedirected, noColor),
            Console.Out,
            Console.Error);
    }

    /// <summary>Standard output with lines as long as their content, whatever the terminal's width (<c>-o wide</c>).</summary>
    public IAnsiConsole Unbounded()
    {
        Out.Profile.Width = UnboundedWidth;
        return Out;
    }

    // Spectre assumes 80 columns where there is no terminal to ask, and wraps every cell to fit;
    // a file or a pipe has no width, so let lines be as long as their content (as -o wide does).
    private const int UnboundedWidth = 1000;

    private static IAnsiConsole Create(TextWriter writer, bool redirected, bool noColor)
    {
        var console = AnsiConsole.Create(new AnsiConsoleSettings
        {
            Out = new AnsiConsoleOutput(writer),
            Ansi = redirected ? AnsiSupport.No : AnsiSupport.Detect,
            ColorSystem = redirected || noColor ? ColorSystemSupport.NoColors : ColorSystemSupport.Detect,
            Interactive = redirected ? InteractionSupport.No : InteractionSupport.Detect,
        });
        if (redirected)
        {
            console.Profile.Width = UnboundedWidth;
        }
        return console;
    }
}
