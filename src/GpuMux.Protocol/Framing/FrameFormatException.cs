namespace GpuMux.Protocol.Framing;

/// <summary>Which framing rule a peer broke.</summary>
public enum FrameError
{
    /// <summary>The header announces a payload over the receiver's limit.</summary>
    TooLarge,

    /// <summary>The reserved flags byte is not 0.</summary>
    BadFlags,

    /// <summary>More than <see cref="FrameHeader.MaxDescriptors"/> descriptors, or descriptors no frame announced.</summary>
    TooManyDescriptors,

    /// <summary>The header announces descriptors that did not arrive with the frame's first byte.</summary>
    MissingDescriptors,

    /// <summary>The stream ended in the middle of a frame.</summary>
    Truncated,
}

/// <summary>
/// A frame header, or the descriptors that came with it, broke the framing rules, so where the
/// next frame starts can no longer be trusted: the receiver answers with an error frame and closes.
/// </summary>
public sealed class FrameFormatException(FrameError reason, string message) : Exception(message)
{
    public FrameError Reason { get; } = reason;
}
