using GpuMux.Protocol;
using GpuMux.Protocol.Framing;
using GpuMux.Protocol.Messages;

namespace GpuMux.Robustness.Clients;

/// <summary>A frame the daemon sent, copied out of the connection's reused buffer.</summary>
internal sealed record Reply(FrameHeader Header, byte[] Payload)
{
    public MessageType Type => (MessageType)Header.Type;

    public uint RequestId => Header.RequestId;

    /// <summary>The error this reply carries: an Error frame's code, or a failed step's status; null for success.</summary>
    public ErrorCode? Error => Type switch
    {
        MessageType.Error => Message.Decode<ErrorMessage>(Payload).Code,
        MessageType.StepCompleted when Decode<StepCompleted>().Status != ErrorCode.None => Decode<StepCompleted>().Status,
        _ => null,
    };

    public T Decode<T>() where T : struct, IMessage<T> => Message.Decode<T>(Payload);

    /// <summary>The reply as a person would want it in a note: its type and, for an error, the code and text.</summary>
    public override string ToString() => Type switch
    {
        MessageType.Error => $"Error {Decode<ErrorMessage>().Code}: {Decode<ErrorMessage>().Text}",
        MessageType.StepCompleted => $"StepCompleted {Decode<StepCompleted>().Status}: {Decode<StepCompleted>().Message}",
        _ => Type.ToString(),
    };
}
