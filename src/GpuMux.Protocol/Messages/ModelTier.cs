namespace GpuMux.Protocol.Messages;

/// <summary>Where a model's weights wait between swaps.</summary>
public enum ModelTier : byte
{
    /// <summary>In the daemon's pinned host pool: swaps run at full PCIe bandwidth.</summary>
    Pinned = 1,

    /// <summary>In the file (page cache), streamed through pinned bounce buffers: slower.</summary>
    File = 2,
}
