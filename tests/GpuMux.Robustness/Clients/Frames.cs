using GpuMux.Protocol;
using GpuMux.Protocol.Messages;

namespace GpuMux.Robustness.Clients;

/// <summary>Well-formed frames, encoded by the protocol's own encoder.</summary>
internal static class Frames
{
    public static byte[] Encode<T>(MessageType type, uint requestId, T message, byte descriptorCount = 0)
        where T : struct, IMessage<T>
    {
        var buffer = new byte[8192];
        var length = Message.Encode(buffer, type, requestId, message, descriptorCount);
        return buffer[..length];
    }

    public static byte[] Empty(MessageType type, uint requestId) => Encode(type, requestId, new EmptyMessage());

    public static byte[] Hello(uint requestId, string clientName) => Encode(MessageType.Hello, requestId, Protocol.Messages.Hello.ForThisVersion(clientName));
}
