using GpuMux.Protocol.Framing;

namespace GpuMux.Protocol.Messages;

/// <summary>What a buffer may be, beyond device memory of its size (protocol 1.6).</summary>
[Flags]
public enum BufferFlags : uint
{
    None = 0,

    /// <summary>The daemon may copy the buffer to host memory while no step names it, and back before one does.</summary>
    Spillable = 1,
}

/// <summary>
/// AllocateBuffer's payload: a u64 byte count and, from protocol 1.6, a u32 of
/// <see cref="BufferFlags"/>. The flags are written only when set, so the request a 1.5 daemon
/// knows is the one sent whenever no flag is asked for; a payload without them reads as none.
/// </summary>
public readonly record struct AllocateBuffer(ulong Bytes, BufferFlags Flags = BufferFlags.None) : IMessage<AllocateBuffer>
{
    /// <summary>The flags this version knows; a daemon refuses any other bit.</summary>
    public const BufferFlags KnownFlags = BufferFlags.Spillable;

    public static AllocateBuffer Read(ref PayloadReader reader)
    {
        var bytes = reader.ReadUInt64();
        return new(bytes, reader.Remaining > 0 ? (BufferFlags)reader.ReadUInt32() : BufferFlags.None);
    }

    public void Write(ref FrameWriter writer)
    {
        writer.WriteUInt64(Bytes);
        if (Flags != BufferFlags.None)
        {
            writer.WriteUInt32((uint)Flags);
        }
    }
}
