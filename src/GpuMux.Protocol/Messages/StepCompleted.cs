using GpuMux.Protocol.Framing;

namespace GpuMux.Protocol.Messages;

/// <summary>
/// The outcome of one step. Times are nanoseconds of the daemon's CLOCK_MONOTONIC, which a client
/// on the same host shares; started and ended are zero for a step that never reached the GPU.
/// </summary>
public readonly record struct StepCompleted(ErrorCode Status, long QueuedAtNs, long StartedAtNs, long EndedAtNs, string Message)
    : IMessage<StepCompleted>
{
    public static StepCompleted Read(ref PayloadReader reader) =>
        new((ErrorCode)reader.ReadUInt16(), reader.ReadInt64(), reader.ReadInt64(), reader.ReadInt64(), reader.ReadString());

    public void Write(ref FrameWriter writer)
    {
        writer.WriteUInt16((ushort)Status);
        writer.WriteInt64(QueuedAtNs);
        writer.WriteInt64(StartedAtNs);
        writer.WriteInt64(EndedAtNs);
        writer.WriteString(Message, ErrorMessage.MaxTextBytes);
    }
}
