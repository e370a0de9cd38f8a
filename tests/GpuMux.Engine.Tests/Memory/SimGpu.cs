using GpuMux.Gpu;
using GpuMux.Gpu.Sim;

namespace GpuMux.Engine.Tests.Memory;

/// <summary>A small simulated device of its own, with a context and a stream owned by the test's thread.</summary>
internal sealed class SimGpu : IDisposable
{
    private readonly GpuBackend _backend;

    public SimGpu(ulong capacity = 128UL << 20)
    {
        _backend = GpuBackends.CreateSim(new GpuBackendOptions
        {
            ModuleCacheDirectory = null,
            Sim = new SimDeviceOptions { CapacityBytes = capacity },
        });
        Context = _backend.CreateContext(0);
        Stream = Context.CreateStream();
    }

    public GpuContext Context { get; private set; }

    public GpuStream Stream { get; private set; }

    /// <summary>What a device reset does: the context goes, with everything on it, and a new one takes its place.</summary>
    public void ReplaceContext()
    {
        Stream.Dispose();
        Context.Dispose();
        Context = _backend.CreateContext(0);
        Stream = Context.CreateStream();
    }

    public byte[] Download(DevicePtr source, int count)
    {
        var bytes = new byte[count];
        Stream.Download<byte>(bytes, source);
        return bytes;
    }

    public void Dispose()
    {
        Stream.Dispose();
        Context.Dispose();
    }
}
