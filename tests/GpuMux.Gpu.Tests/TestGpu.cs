using GpuMux.Gpu.Kernels;

namespace GpuMux.Gpu.Tests;

/// <summary>A context on device 0 with one stream and the built-in kernels, owned by the test's thread.</summary>
internal sealed class TestGpu : IDisposable
{
    public TestGpu(GpuBackend backend)
    {
        Context = backend.CreateContext(0);
        Stream = Context.CreateStream();
        Kernels = BuiltinKernels.Load(Context);
    }

    public GpuContext Context { get; }

    public GpuStream Stream { get; }

    public BuiltinKernels Kernels { get; }

    public DeviceAllocation Upload<T>(ReadOnlySpan<T> data)
        where T : unmanaged => Stream.AllocateAndUpload(data);

    public T[] Download<T>(DevicePtr source, int count)
        where T : unmanaged
    {
        var result = new T[count];
        Stream.Download<T>(result, source);
        return result;
    }

    public void Dispose()
    {
        Kernels.Dispose();
        Stream.Dispose();
        Context.Dispose();
    }
}
