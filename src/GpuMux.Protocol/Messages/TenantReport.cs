using GpuMux.Protocol.Framing;

namespace GpuMux.Protocol.Messages;

/// <summary>
/// Every tenant the daemon knows; as many entries as fit in one frame, with
/// <see cref="TenantsTotal"/> saying how many there are.
/// </summary>
public readonly record struct TenantReport(uint TenantsTotal, IReadOnlyList<TenantEntry> Tenants) : IMessage<TenantReport>
{
    public const int FixedBytes = 4 + 2;

    public static TenantReport Read(ref PayloadReader reader)
    {
        var total = reader.ReadUInt32();
        var tenants = new TenantEntry[reader.ReadUInt16()];
        for (var i = 0; i < tenants.Length; i++)
        {
            tenants[i] = TenantEntry.Read(ref reader);
        }

        return new(total, tenants);
    }

    public void Write(ref FrameWriter writer)
    {
        writer.WriteUInt32(TenantsTotal);
        writer.WriteUInt16((ushort)Tenants.Count);
        foreach (var tenant in Tenants)
        {
            tenant.Write(ref writer);
        }
    }
}
