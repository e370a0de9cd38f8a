using System.CommandLine;
using GpuMux.Cli;
using GpuMux.Cli.Commands;
using GpuMux.Cli.Output;

var terminal = Terminal.FromProcess();
var root = new RootCommand("gpumuxctl: inspect and check the GPUs that gpumuxd shares.")
{
    new DevicesCommand(terminal),
};

var parse = root.Parse(args);
var exitCode = parse.Invoke();
// System.CommandLine answers a usage error with 1, which here means that a check failed.
return parse.Errors.Count > 0 ? ExitCodes.Usage : exitCode;
