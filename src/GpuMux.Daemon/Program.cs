using GpuMux.Daemon;

return await DaemonHost.RunAsync(args);
