namespace GpuMux.Client;

/// <summary>A kernel found by name in a module, to launch in steps.</summary>
public sealed class KernelFunction
{
    private readonly SessionHandle _handle;

    internal KernelFunction(GpuMuxClient owner, uint handle, string name)
    {
        _handle = new SessionHandle(owner, handle, nameof(KernelFunction));
        Name = name;
    }

    /// <summary>The daemon's handle for the function, as launches name it.</summary>
    public uint Handle => _handle.Value;

    /// <summary>The kernel's name in its module (its <c>extern "C"</c> name).</summary>
    public string Name { get; }

    internal uint HandleFor(GpuMuxClient client) => _handle.For(client);
}
