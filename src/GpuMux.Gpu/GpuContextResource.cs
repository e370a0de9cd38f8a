namespace GpuMux.Gpu;

/// <summary>A resource that belongs to one context and may only be used from its owning thread.</summary>
public abstract class GpuContextResource(GpuContext context) : GpuResource
{
    public GpuContext Context { get; } = context;

    /// <summary>Checks, before any driver call, that the resource is alive and used from the context's thread.</summary>
    protected void EnterCall()
    {
        ThrowIfDisposed();
        Context.VerifyAccess();
    }
}
