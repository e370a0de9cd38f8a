namespace GpuMux.Gpu;

/// <summary>A kernel in a loaded module; valid as long as the module is.</summary>
public abstract class GpuFunction(GpuModule module, string name)
{
    public GpuModule Module { get; } = module;

    public string Name { get; } = name;

    public override string ToString() => Name;
}
