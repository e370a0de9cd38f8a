namespace GpuMux.Gpu;

/// <summary>Loaded kernels. Unloaded on dispose, which invalidates its functions.</summary>
public abstract class GpuModule(GpuContext context) : GpuContextResource(context)
{
    /// <summary>The kernel named <paramref name="name"/> (an <c>extern "C"</c> name), or a <see cref="GpuStatus.NotFound"/> error.</summary>
    public GpuFunction GetFunction(string name)
    {
        ArgumentException.ThrowIfNullOrEmpty(name);
        EnterCall();
        return GetFunctionCore(name);
    }

    protected abstract GpuFunction GetFunctionCore(string name);
}
