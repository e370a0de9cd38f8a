using GpuMux.Protocol.Framing;

namespace GpuMux.Protocol.Messages;

/// <summary>
/// The tenants the asker may see, as many as fit in one frame; <see cref="TenantsTotal"/> counts
/// every tenant the daemon knows. <see cref="Others"/>, the tenants left out for not being the
/// asker, summed up, follows for a session that speaks 1.4, and is null otherwise.
/// </summary>
public readonly record struct TenantReport(uint TenantsTotal, IReadOnlyList<TenantEntry> Tenants, OtherTenants? Others = null) : IMessage<TenantReport>
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

        // A 1.3 report ends after its entries; a 1.4 report goes on.
        OtherTenants? others = reader.Remaining > 0 ? OtherTenants.Read(ref reader) : null;
        return new(total, tenants, others);
    }

    public void Write(ref FrameWriter writer)
    {
        writer.WriteUInt32(TenantsTotal);
        writer.WriteUInt16((ushort)Tenants.Count);
        foreach (var tenant in Tenants)
        {
            tenant.Write(ref writer);
        }

        Others?.Write(ref writer);
    }
}
