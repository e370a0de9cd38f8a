namespace GpuMux.Gpu;

/// <summary>A kernel in a loaded module; valid as long as the module is.</summary>
public abstract class GpuFunction(GpuModule module, string name, IReadOnlyList<KernelParameter>? parameters)
{
    public GpuModule Module { get; } = module;

    public string Name { get; } = name;

    /// <summary>The kernel's parameters in declaration order; null where the driver cannot report them, and then the kernel is not launched.</summary>
    public IReadOnlyList<KernelParameter>? Parameters { get; } = parameters;

    public override string ToString() => Name;
}
