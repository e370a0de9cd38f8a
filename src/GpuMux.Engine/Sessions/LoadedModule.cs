using GpuMux.Engine.Execution;
using GpuMux.Gpu;

namespace GpuMux.Engine.Sessions;

/// <summary>
/// A module on the device, with the image it was loaded from, kept so that it can be loaded
/// again into a new context after a device reset without compiling anything.
/// </summary>
internal sealed class LoadedModule(string name, ModuleImage image) : IDisposable
{
    private GpuModule? _module;

    public string Name { get; } = name;

    /// <summary>What it was loaded from, and is loaded from again into a new context.</summary>
    public ModuleImage Image { get; } = image;

    public GpuModule Module => _module ?? throw new InvalidOperationException($"module {Name} is not loaded");

    /// <summary>Module 0, whose kernels every session may run, launched only as <see cref="BuiltinLaunchRule"/> allows.</summary>
    public bool IsBuiltin { get; init; }

    /// <summary>Unloaded by a request that waits for the session's queued steps to start first; requests no longer see it.</summary>
    public bool Releasing { get; set; }

    public void Attach(GpuContext context) => _module = context.LoadModule(Image);

    public void Detach()
    {
        _module?.Dispose();
        _module = null;
    }

    public void Dispose() => Detach();
}

/// <summary>A function handle: a kernel found by name in a module, found again when the module is reloaded.</summary>
internal sealed class KernelFunction
{
    private KernelFunction(LoadedModule module, string name, GpuFunction function)
    {
        Module = module;
        Name = name;
        Function = function;
        Builtin = module.IsBuiltin ? BuiltinLaunchRule.For(name) : null;
    }

    public LoadedModule Module { get; }

    public string Name { get; }

    public GpuFunction Function { get; private set; }

    /// <summary>How a launch must be given, for a kernel of module 0; null for a kernel of a module the session loaded.</summary>
    public BuiltinLaunchRule? Builtin { get; }

    /// <summary>The kernel <paramref name="name"/> of <paramref name="module"/>; a <see cref="GpuStatus.NotFound"/> error if it has none.</summary>
    public static KernelFunction Find(LoadedModule module, string name) => new(module, name, module.Module.GetFunction(name));

    public void Refresh() => Function = Module.Module.GetFunction(Name);
}
