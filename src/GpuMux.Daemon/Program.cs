using GpuMux.Daemon;
using Microsoft.Extensions.Hosting;

await DaemonHost.Build(args).RunAsync();
