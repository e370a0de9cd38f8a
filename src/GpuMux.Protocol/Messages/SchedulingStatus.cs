using GpuMux.Protocol.Framing;

namespace GpuMux.Protocol.Messages;

/// <summary>
/// The part of StatusReport that protocol 1.2 added after the session entries: the scheduling
/// policy, the priority classes (highest first), and one <see cref="SessionClassEntry"/> per
/// session entry, in the same order.
/// </summary>
public readonly record struct SchedulingStatus(
    SchedulingPolicy Policy,
    IReadOnlyList<PriorityClassEntry> Classes,
    IReadOnlyList<SessionClassEntry> Sessions)
{
    /// <summary>The daemon has at most this many classes, which bounds the fixed part's size.</summary>
    public const int MaxClasses = 8;

    public const int MaxFixedBytes = 1 + 1 + MaxClasses * PriorityClassEntry.MaxEncodedBytes;

    public static SchedulingStatus Read(ref PayloadReader reader, int sessionCount)
    {
        var policy = (SchedulingPolicy)reader.ReadByte();
        var classes = new PriorityClassEntry[reader.ReadByte()];
        for (var i = 0; i < classes.Length; i++)
        {
            classes[i] = PriorityClassEntry.Read(ref reader);
        }

        var sessions = new SessionClassEntry[sessionCount];
        for (var i = 0; i < sessions.Length; i++)
        {
            sessions[i] = SessionClassEntry.Read(ref reader);
        }

        return new(policy, classes, sessions);
    }

    public void Write(ref FrameWriter writer)
    {
        writer.WriteByte((byte)Policy);
        writer.WriteByte((byte)Classes.Count);
        foreach (var priorityClass in Classes)
        {
            priorityClass.Write(ref writer);
        }

        foreach (var session in Sessions)
        {
            session.Write(ref writer);
        }
    }
}
