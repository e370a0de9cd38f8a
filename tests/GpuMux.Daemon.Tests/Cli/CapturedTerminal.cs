using GpuMux.Cli.Output;
using Spectre.Console;

namespace GpuMux.Daemon.Tests.Cli;

/// <summary>gpumuxctl's standard output and error kept as text, as from a terminal of <paramref name="width"/> columns without colour.</summary>
internal sealed class CapturedTerminal(int width = 80)
{
    private readonly StringWriter _out = new();
    private readonly StringWriter _error = new();

    public string Out => _out.ToString();

    public string Error => _error.ToString();

    public Terminal Terminal => new(Console(_out), Console(_error), _out, _error);

    private IAnsiConsole Console(TextWriter writer)
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
}
