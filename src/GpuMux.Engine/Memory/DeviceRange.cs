using GpuMux.Gpu;

namespace GpuMux.Engine.Memory;

/// <summary>
/// Reserved device virtual addresses from a <see cref="DevicePagePool"/>, with or without pages
/// mapped into them. The address stays the same for the range's life, mapped or not, so a model
/// reserved at registration keeps its address across evictions and swap-ins.
/// </summary>
internal sealed class DeviceRange
{
    internal DeviceRange(DevicePagePool pool, AddressReservation reservation, ulong bytes)
    {
        Pool = pool;
        Reservation = reservation;
        Bytes = bytes;
    }

    public DevicePtr Start => Reservation.Start;

    /// <summary>The bytes asked for.</summary>
    public ulong Bytes { get; }

    /// <summary>The bytes rounded up to whole pages: the memory the range holds while mapped.</summary>
    public ulong MappedBytes => Reservation.Length;

    public bool IsMapped => HeldPages.Count > 0;

    /// <summary>The pages behind the range, in address order; empty while unmapped.</summary>
    public IReadOnlyList<PhysicalMemory> Pages => HeldPages;

    internal DevicePagePool Pool { get; }

    internal AddressReservation Reservation { get; }

    internal List<PhysicalMemory> HeldPages { get; } = [];

    public override string ToString() => $"{Bytes} bytes at {Start}{(IsMapped ? "" : " (unmapped)")}";
}
