using GpuMux.Protocol.Framing;

namespace GpuMux.Protocol.Messages;

/// <summary>A payload layout: how one message's fields are read and written.</summary>
public interface IMessage<TSelf> where TSelf : struct, IMessage<TSelf>
{
    static abstract TSelf Read(ref PayloadReader reader);

    void Write(ref FrameWriter writer);
}

public static class Message
{
    /// <summary>Decodes a whole payload as <typeparamref name="T"/>; bytes left over are malformed.</summary>
    public static T Decode<T>(ReadOnlySpan<byte> payload) where T : struct, IMessage<T>
    {
        var reader = new PayloadReader(payload);
        var message = T.Read(ref reader);
        reader.EnsureEnd();
        return message;
    }

    /// <summary>Encodes a frame into <paramref name="buffer"/> and returns its length.</summary>
    public static int Encode<T>(Span<byte> buffer, MessageType type, uint requestId, in T message, byte descriptorCount = 0)
        where T : struct, IMessage<T>
    {
        var writer = new FrameWriter(buffer);
        message.Write(ref writer);
        return writer.Finish(type, requestId, descriptorCount);
    }
}
