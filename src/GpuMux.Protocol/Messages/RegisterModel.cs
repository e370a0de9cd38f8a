using GpuMux.Protocol.Framing;

namespace GpuMux.Protocol.Messages;

/// <summary>
/// Registers the safetensors file riding with the frame as a model. <see cref="GroupTensorCounts"/>
/// splits its tensors, in file order, into layer groups; empty means the daemon's default grouping.
/// </summary>
public readonly record struct RegisterModel(string Name, IReadOnlyList<uint> GroupTensorCounts) : IMessage<RegisterModel>
{
    public static RegisterModel Read(ref PayloadReader reader)
    {
        var name = reader.ReadString();
        var count = reader.ReadUInt32();
        if (count > (uint)reader.Remaining / sizeof(uint))
        {
            throw new MalformedPayloadException($"{count} layer groups do not fit in the {reader.Remaining} bytes left");
        }

        var groups = new uint[count];
        for (var i = 0; i < groups.Length; i++)
        {
            groups[i] = reader.ReadUInt32();
        }

        return new(name, groups);
    }

    public void Write(ref FrameWriter writer)
    {
        writer.WriteString(Name);
        writer.WriteUInt32((uint)GroupTensorCounts.Count);
        foreach (var count in GroupTensorCounts)
        {
            writer.WriteUInt32(count);
        }
    }
}
