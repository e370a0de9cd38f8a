namespace GpuMux.Engine.Tenants;

/// <summary>
/// Which kernels a tenant's sessions may run. All sessions share one CUDA context, and a kernel
/// can address any of its memory: only the built-ins, whose every launch the engine bounds to the
/// step's buffers and tensors, keep a tenant inside its own.
/// </summary>
public enum KernelPolicy
{
    /// <summary>Module 0, the built-in kernels, over the tenant's buffers and registered models; loading a module is refused.</summary>
    Builtin,

    /// <summary>Any module (CUDA C, PTX, cubin) too, whose kernels can read and write every session's device memory.</summary>
    Trusted,
}
