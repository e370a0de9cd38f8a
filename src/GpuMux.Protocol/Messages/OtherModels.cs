using GpuMux.Protocol.Framing;

namespace GpuMux.Protocol.Messages;

/// <summary>
/// The part of ModelList that protocol 1.4 added at its end: the models the list leaves out
/// because other tenants own them, summed up. All zero for an administrator, who is shown every
/// model.
/// </summary>
public readonly record struct OtherModels(uint Models, ulong Bytes, uint Resident) : IMessage<OtherModels>
{
    public const int EncodedBytes = 4 + 8 + 4;

    public static OtherModels Read(ref PayloadReader reader) => new(reader.ReadUInt32(), reader.ReadUInt64(), reader.ReadUInt32());

    public void Write(ref FrameWriter writer)
    {
        writer.WriteUInt32(Models);
        writer.WriteUInt64(Bytes);
        writer.WriteUInt32(Resident);
    }
}
