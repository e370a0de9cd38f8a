namespace GpuMux.Engine.Sessions;

/// <summary>
/// Device pool bytes each tenant's buffers hold, over all its sessions, against
/// <see cref="EngineOptions.MaxDeviceBytesPerTenant"/>. Engine thread only.
/// </summary>
internal sealed class TenantUsage(ulong limit)
{
    private readonly Dictionary<uint, ulong> _bytes = [];

    public void ThrowIfOver(uint uid, ulong more)
    {
        if (limit == 0)
        {
            return;
        }
        var held = _bytes.GetValueOrDefault(uid);
        if (more > limit - Math.Min(held, limit))
        {
            throw new EngineException(
                EngineError.QuotaExceeded,
                $"{more} more bytes of device memory would take the buffers of uid {uid}, over all its sessions, past its {limit} bytes (they hold {held})");
        }
    }

    public void Add(uint uid, ulong bytes) => _bytes[uid] = _bytes.GetValueOrDefault(uid) + bytes;

    public void Remove(uint uid, ulong bytes)
    {
        var left = _bytes.GetValueOrDefault(uid) - Math.Min(bytes, _bytes.GetValueOrDefault(uid));
        if (left == 0)
        {
            _bytes.Remove(uid);
        }
        else
        {
            _bytes[uid] = left;
        }
    }
}
