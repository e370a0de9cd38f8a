using GpuMux.Protocol.Framing;

namespace GpuMux.Protocol.Messages;

/// <summary>The payload of GetStatus and Ok: nothing, and decoding checks that it is nothing.</summary>
public readonly record struct EmptyMessage : IMessage<EmptyMessage>
{
    public static EmptyMessage Read(ref PayloadReader reader) => default;

    public void Write(ref FrameWriter writer)
    {
    }
}
