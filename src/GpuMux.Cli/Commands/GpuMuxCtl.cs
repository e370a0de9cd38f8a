using System.CommandLine;
using GpuMux.Cli.Output;

namespace GpuMux.Cli.Commands;

/// <summary>gpumuxctl's command line: its commands, and the exit status of a run.</summary>
internal static class GpuMuxCtl
{
    public static async Task<int> RunAsync(IReadOnlyList<string> args, Terminal terminal, CancellationToken cancellationToken = default)
    {
        var root = new RootCommand("gpumuxctl: inspect and check the GPUs that gpumuxd shares.")
        {
            new DevicesCommand(terminal),
            new StatusCommand(terminal),
            new ModelsCommand(terminal),
            new TenantsCommand(terminal),
            new HealthCommand(terminal),
            new DemoCommand(terminal),
            new GenerateCommand(terminal),
        };

        var parse = root.Parse(args);
        var exitCode = await parse.InvokeAsync(new InvocationConfiguration { Output = terminal.PlainOut, Error = terminal.PlainError }, cancellationToken);
        // System.CommandLine answers a usage error with 1, which here means that a check failed.
        return parse.Errors.Count > 0 ? ExitCodes.Usage : exitCode;
    }
}
