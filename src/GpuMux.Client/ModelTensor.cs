namespace GpuMux.Client;

/// <summary>
/// A tensor of a model, found by name, to pass to the kernels of steps bound to that model
/// (<see cref="StepBuilder.Tensor"/>). It lives as long as its model.
/// </summary>
public sealed class ModelTensor
{
    internal ModelTensor(ClientModel model, uint handle, string name, ulong bytes, uint group)
    {
        Model = model;
        Handle = handle;
        Name = name;
        Bytes = bytes;
        Group = group;
    }

    public ClientModel Model { get; }

    public uint Handle { get; }

    public string Name { get; }

    public ulong Bytes { get; }

    /// <summary>The layer group the tensor belongs to.</summary>
    public uint Group { get; }

    /// <summary>The handle, once its model has been checked to belong to <paramref name="client"/> and to be registered still.</summary>
    internal uint HandleFor(GpuMuxClient client)
    {
        Model.HandleFor(client);
        return Handle;
    }
}
