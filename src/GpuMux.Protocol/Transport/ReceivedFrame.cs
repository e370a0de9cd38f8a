using GpuMux.Protocol.Framing;
using Microsoft.Win32.SafeHandles;
using static Tmds.Linux.LibC;

namespace GpuMux.Protocol.Transport;

/// <summary>
/// One received frame. Its connection reuses this object: the payload and the descriptors are valid
/// until the next read, which closes the descriptors that were not taken.
/// </summary>
public sealed class ReceivedFrame
{
    private DescriptorArray _descriptors;
    private int _held;

    internal ReceivedFrame()
    {
    }

    public FrameHeader Header { get; private set; }

    /// <summary>The payload, contiguous; valid until the next read on the connection.</summary>
    public ReadOnlyMemory<byte> Payload { get; private set; }

    public int DescriptorCount => Header.DescriptorCount;

    /// <summary>Takes descriptor <paramref name="index"/> out of the frame: the caller owns (and closes) it from now on.</summary>
    public SafeFileHandle TakeDescriptor(int index)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(index);
        ArgumentOutOfRangeException.ThrowIfGreaterThanOrEqual(index, DescriptorCount);
        var descriptor = _descriptors[index];
        if (descriptor < 0)
        {
            throw new InvalidOperationException($"descriptor {index} of this frame was already taken");
        }

        _descriptors[index] = -1;
        return new SafeFileHandle(descriptor, ownsHandle: true);
    }

    /// <summary>Takes ownership of a frame's descriptors as soon as its header is read, before its payload is in.</summary>
    internal void HoldDescriptors(ReadOnlySpan<int> descriptors)
    {
        descriptors.CopyTo(_descriptors);
        _held = descriptors.Length;
    }

    internal void Complete(FrameHeader header, ReadOnlyMemory<byte> payload)
    {
        Header = header;
        Payload = payload;
    }

    /// <summary>Closes the descriptors nobody took and forgets the frame.</summary>
    internal void Release()
    {
        foreach (var descriptor in ((ReadOnlySpan<int>)_descriptors)[.._held])
        {
            if (descriptor >= 0)
            {
                close(descriptor);
            }
        }

        _held = 0;
        Header = default;
        Payload = default;
    }
}
