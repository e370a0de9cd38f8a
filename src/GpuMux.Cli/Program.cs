using GpuMux.Cli.Commands;
using GpuMux.Cli.Output;

return await GpuMuxCtl.RunAsync(args, Terminal.FromProcess());
