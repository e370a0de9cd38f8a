using GpuMux.Cli.Output;

namespace GpuMux.Daemon.Tests.Cli;

/// <summary>gpumuxctl's standard output and error kept as text, as from a terminal of <paramref name="width"/> columns without colour.</summary>
internal sealed class CapturedTerminal(int width = 80)
{
    private readonly StringWriter _out = new();
    private readonly StringWriter _error = new();

    public string Out => _out.ToString();

    public string Error => _error.ToString();

    public Terminal Terminal => new(RenderedText.PlainConsole(_out, width), RenderedText.PlainConsole(_error, width), _out, _error);
}
