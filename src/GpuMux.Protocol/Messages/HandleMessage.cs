using GpuMux.Protocol.Framing;

namespace GpuMux.Protocol.Messages;

/// <summary>
/// A payload of one u32 handle: ReleaseRegion, FreeBuffer and UnloadModule name the handle they
/// release; RegionRegistered, BufferAllocated and FunctionFound return the handle created.
/// </summary>
public readonly record struct HandleMessage(uint Handle) : IMessage<HandleMessage>
{
    public static HandleMessage Read(ref PayloadReader reader) => new(reader.ReadUInt32());

    public void Write(ref FrameWriter writer) => writer.WriteUInt32(Handle);
}
