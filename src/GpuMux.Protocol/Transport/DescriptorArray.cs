using System.Runtime.CompilerServices;
using GpuMux.Protocol.Framing;

namespace GpuMux.Protocol.Transport;

/// <summary>Room for one frame's descriptors, without an allocation.</summary>
[InlineArray(FrameHeader.MaxDescriptors)]
internal struct DescriptorArray
{
    private int _first;
}
