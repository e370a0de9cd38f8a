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

    public uint Handle => _handle.Value;

    public string Name { get; }

    internal uint HandleFor(GpuMuxClient client) => _handle.For(client);
}
