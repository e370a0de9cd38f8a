using System.CommandLine;
using GpuMux.Cli;
using GpuMux.Cli.Commands;
using GpuMux.Cli.Output;

var terminal = Terminal.FromProcess();
var root = new RootCommand("gpumuxctl: inspect and check the GPUs that gpumuxd shares.")
{
    new DevicesCommand(terminal),
    new StatusCommand(terminal),
    new ModelsCommand(terminal),
    new TenantsCommand(terminal),
    new DemoCommand(terminal),
};

var parse = root.Parse(args);
var exitCode = await parse.InvokeAsync();
// System.CommandLine answers a usage error with 1, which here means that a check failed.
return parse.Errors.Count > 0 ? ExitCodes.Usage : exitCode;
