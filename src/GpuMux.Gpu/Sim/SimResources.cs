using GpuMux.Linux;

namespace GpuMux.Gpu.Sim;

internal sealed class SimDeviceAllocation(SimContext context, DevicePtr pointer, ulong length)
    : DeviceAllocation(context, pointer, length)
{
    protected override void Release() => context.Memory.Free(Pointer.Address);
}

internal sealed class SimPinnedAllocation(SimContext context, nint pointer, ulong length)
    : PinnedHostAllocation(context, pointer, length)
{
    protected override void Release()
    {
        context.Pinned.Remove(Pointer);
        context.Memory.WithoutAccess(() => PageMappings.Unmap(Pointer, (nuint)Length));
    }
}

internal sealed class SimHostRegistration(SimContext context, nint pointer, ulong length)
    : HostRegistration(context, pointer, length)
{
    protected override void Release() => context.Pinned.Remove(Pointer);
}

internal sealed class SimAddressReservation(SimContext context, DevicePtr start, ulong length)
    : AddressReservation(context, start, length)
{
    protected override void Release() => context.Memory.FreeReservation(Start.Address);
}

internal sealed class SimPhysicalMemory(SimContext context, SimPhysicalBacking backing)
    : PhysicalMemory(context, backing.Length)
{
    public SimPhysicalBacking Backing { get; } = backing;

    protected override void Release() => context.Memory.ReleasePhysical(Backing);
}
