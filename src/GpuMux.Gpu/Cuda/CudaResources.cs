namespace GpuMux.Gpu.Cuda;

internal sealed class CudaDeviceAllocation(CudaContext context, DevicePtr pointer, ulong length)
    : DeviceAllocation(context, pointer, length)
{
    private readonly CudaHandle _owned = new(context, CudaHandleKind.DeviceMemory, (nint)pointer.Address);

    protected override void Release() => _owned.Dispose();
}

internal sealed class CudaPinnedAllocation(CudaContext context, nint pointer, ulong length)
    : PinnedHostAllocation(context, pointer, length)
{
    private readonly CudaHandle _owned = new(context, CudaHandleKind.PinnedHostMemory, pointer);

    protected override void Release() => _owned.Dispose();
}

internal sealed class CudaHostRegistration(CudaContext context, nint pointer, ulong length)
    : HostRegistration(context, pointer, length)
{
    private readonly CudaHandle _owned = new(context, CudaHandleKind.HostRegistration, pointer);

    protected override void Release() => _owned.Dispose();
}

internal sealed class CudaAddressReservation(CudaContext context, DevicePtr start, ulong length)
    : AddressReservation(context, start, length)
{
    private readonly CudaHandle _owned = new(context, CudaHandleKind.AddressRange, (nint)start.Address, (nuint)length);

    protected override void Release() => _owned.Dispose();
}

internal sealed class CudaPhysicalMemory(CudaContext context, ulong handle, ulong length)
    : PhysicalMemory(context, length)
{
    private readonly CudaHandle _owned = new(context, CudaHandleKind.PhysicalMemory, (nint)handle);

    /// <summary>The <c>CUmemGenericAllocationHandle</c>.</summary>
    public ulong Handle { get; } = handle;

    protected override void Release() => _owned.Dispose();
}
