// One build of libgpumux serves every test that needs it.
[assembly: AssemblyFixture(typeof(GpuMux.Daemon.Tests.Clients.CClientBuild))]
