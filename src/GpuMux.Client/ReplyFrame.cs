using System.Buffers;
using GpuMux.Protocol;
using GpuMux.Protocol.Framing;
using GpuMux.Protocol.Messages;

namespace GpuMux.Client;

/// <summary>
/// A reply as the receive loop hands it to the request waiting for it: its type, a copy of its
/// payload in a pooled array (the connection reuses its own buffer), and when it arrived.
/// </summary>
internal readonly struct ReplyFrame
{
    private readonly byte[] _payload;
    private readonly int _length;

    private ReplyFrame(MessageType type, byte[] payload, int length, long receivedAtNs)
    {
        Type = type;
        _payload = payload;
        _length = length;
        ReceivedAtNs = receivedAtNs;
    }

    public MessageType Type { get; }

    public long ReceivedAtNs { get; }

    public static ReplyFrame Copy(MessageType type, ReadOnlySpan<byte> payload, long receivedAtNs)
    {
        var copy = payload.IsEmpty ? [] : ArrayPool<byte>.Shared.Rent(payload.Length);
        payload.CopyTo(copy);
        return new ReplyFrame(type, copy, payload.Length, receivedAtNs);
    }

    /// <summary>
    /// The payload decoded as <typeparamref name="T"/> if the reply is <paramref name="expected"/>;
    /// an Error reply is thrown as its <see cref="GpuMuxException"/>. Gives the payload back to the pool.
    /// </summary>
    public T Decode<T>(MessageType expected)
        where T : struct, IMessage<T>
    {
        try
        {
            var payload = _payload.AsSpan(0, _length);
            if (Type == MessageType.Error)
            {
                var error = Message.Decode<ErrorMessage>(payload);
                throw GpuMuxException.For(error.Code, error.Text);
            }

            return Type == expected
                ? Message.Decode<T>(payload)
                : throw new MalformedPayloadException($"expected {expected}, the daemon answered {Type}");
        }
        finally
        {
            Release();
        }
    }

    public void Release()
    {
        if (_payload.Length != 0)
        {
            ArrayPool<byte>.Shared.Return(_payload);
        }
    }
}
