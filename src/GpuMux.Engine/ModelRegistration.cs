namespace GpuMux.Engine;

/// <summary>Where a model's weights wait while they are not on the device. The values travel on the wire.</summary>
public enum ModelTier : byte
{
    /// <summary>Copied into the engine's pinned host pool at registration: swapped in by DMA at the bus's full speed.</summary>
    Pinned = 1,

    /// <summary>
    /// The pinned pool had no room: the engine keeps the client's descriptor and streams the
    /// file (from the page cache, usually) through pinned bounce buffers at each swap-in.
    /// </summary>
    File = 2,
}

/// <summary>
/// A registered model: its handle in the session, how many tensors and data bytes it has, where
/// its weights are staged, and how many layer groups it is swapped in by.
/// </summary>
public readonly record struct ModelRegistration(uint Model, int TensorCount, ulong Bytes, ModelTier Tier, int Groups);

/// <summary>How much of a model's data has been copied into pinned host memory so far.</summary>
public readonly record struct ModelStagingProgress(ulong StagedBytes, ulong TotalBytes);

/// <summary>
/// A tensor of a model: the handle a step names it by (<see cref="Step.AddTensorArgument"/>),
/// its size, and the layer group whose arrival on the device a launch using it waits for.
/// </summary>
public readonly record struct TensorInfo(uint Tensor, ulong Bytes, int Group);
