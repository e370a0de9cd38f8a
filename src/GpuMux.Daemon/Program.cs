using GpuMux.Daemon.Hosting;

return await DaemonRun.RunAsync(args);
