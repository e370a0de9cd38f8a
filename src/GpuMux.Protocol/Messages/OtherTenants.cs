using GpuMux.Protocol.Framing;

namespace GpuMux.Protocol.Messages;

/// <summary>
/// The part of TenantReport that protocol 1.4 added at its end: the tenants the report leaves out
/// because they are not the one asking, summed up. All zero for an administrator, who is shown
/// every tenant.
/// </summary>
public readonly record struct OtherTenants(uint Tenants, uint Sessions, ulong DeviceBytes, uint Leases, double GpuSecondsToday) : IMessage<OtherTenants>
{
    public const int EncodedBytes = 4 + 4 + 8 + 4 + 8;

    public static OtherTenants Read(ref PayloadReader reader) =>
        new(reader.ReadUInt32(), reader.ReadUInt32(), reader.ReadUInt64(), reader.ReadUInt32(), reader.ReadDouble());

    public void Write(ref FrameWriter writer)
    {
        writer.WriteUInt32(Tenants);
        writer.WriteUInt32(Sessions);
        writer.WriteUInt64(DeviceBytes);
        writer.WriteUInt32(Leases);
        writer.WriteDouble(GpuSecondsToday);
    }
}
