using GpuMux.Protocol.Framing;

namespace GpuMux.Protocol.Messages;

/// <summary>
/// The daemon's state. The report lists the sessions the asker may see, as many as fit in one
/// frame; <see cref="SessionsTotal"/> counts every session. <see cref="Scheduling"/> follows the
/// sessions for a session that speaks 1.2 or later, and <see cref="Others"/>, the sessions left
/// out for belonging to other tenants, summed up, for one that speaks 1.4; each is null otherwise.
/// </summary>
public readonly record struct StatusReport(
    BackendKind Backend,
    string BackendDescription,
    DeviceDescription Device,
    ulong FreeBytes,
    ulong TotalBytes,
    ulong SessionBytes,
    long UptimeMs,
    uint SessionsTotal,
    IReadOnlyList<SessionEntry> Sessions,
    SchedulingStatus? Scheduling = null,
    OtherSessions? Others = null) : IMessage<StatusReport>
{
    public static StatusReport Read(ref PayloadReader reader)
    {
        var backend = (BackendKind)reader.ReadByte();
        var description = reader.ReadString();
        var device = DeviceDescription.Read(ref reader);
        var free = reader.ReadUInt64();
        var total = reader.ReadUInt64();
        var sessionBytes = reader.ReadUInt64();
        var uptime = reader.ReadInt64();
        var sessionsTotal = reader.ReadUInt32();
        var sessions = new SessionEntry[reader.ReadUInt16()];
        for (var i = 0; i < sessions.Length; i++)
        {
            sessions[i] = SessionEntry.Read(ref reader);
        }

        // A 1.1 report ends after its sessions; a 1.2 report goes on, and a 1.4 report further.
        SchedulingStatus? scheduling = reader.Remaining > 0 ? SchedulingStatus.Read(ref reader, sessions.Length) : null;
        OtherSessions? others = reader.Remaining > 0 ? OtherSessions.Read(ref reader) : null;
        return new(backend, description, device, free, total, sessionBytes, uptime, sessionsTotal, sessions, scheduling, others);
    }

    public void Write(ref FrameWriter writer)
    {
        writer.WriteByte((byte)Backend);
        writer.WriteString(BackendDescription);
        Device.Write(ref writer);
        writer.WriteUInt64(FreeBytes);
        writer.WriteUInt64(TotalBytes);
        writer.WriteUInt64(SessionBytes);
        writer.WriteInt64(UptimeMs);
        writer.WriteUInt32(SessionsTotal);
        writer.WriteUInt16((ushort)Sessions.Count);
        foreach (var session in Sessions)
        {
            session.Write(ref writer);
        }

        if (Scheduling is { } scheduling)
        {
            if (scheduling.Sessions.Count != Sessions.Count)
            {
                throw new InvalidOperationException($"{scheduling.Sessions.Count} sessions' classes for {Sessions.Count} sessions");
            }

            scheduling.Write(ref writer);
        }

        if (Others is { } others)
        {
            if (Scheduling is null)
            {
                throw new InvalidOperationException("the 1.4 part of a status report follows its 1.2 part");
            }

            others.Write(ref writer);
        }
    }
}
