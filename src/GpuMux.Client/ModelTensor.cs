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

    /// <summary>The model the tensor belongs to: a step must be bound to it to pass the tensor.</summary>
    public ClientModel Model { get; }

    /// <summary>The daemon's handle for the tensor, as tensor arguments name it.</summary>
    public uint Handle { get; }

    /// <summary>Its name in the safetensors header.</summary>
    public string Name { get; }

    /// <summary>Its size in bytes: an argument's offset must be less.</summary>
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
