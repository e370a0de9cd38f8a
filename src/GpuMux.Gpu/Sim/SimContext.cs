using GpuMux.Gpu.Compilation;
using GpuMux.Linux;

namespace GpuMux.Gpu.Sim;

internal sealed class SimContext : GpuContext
{
    private readonly SimBackend _backend;

    public SimContext(SimBackend backend, GpuDeviceInfo device, SimDeviceOptions options, ModuleCompiler compiler, bool kernelsRun)
        : base(device, options.StreamPriorities, options.AllocationGranularity, compiler)
    {
        _backend = backend;
        Options = options;
        KernelsRun = kernelsRun;
        Memory = new SimMemory(options.CapacityBytes, options.AllocationGranularity);
        Scheduler = new SimScheduler(Memory, options, device.Ordinal);
    }

    public SimDeviceOptions Options { get; }

    /// <summary>False on a device that did not come back from a reset (<see cref="SimResetOutcome.KernelsDoNotRun"/>): kernels complete without doing their work.</summary>
    public bool KernelsRun { get; }

    public SimMemory Memory { get; }

    public SimScheduler Scheduler { get; }

    public SimPinnedRanges Pinned { get; } = new();

    public double CopyBandwidth(nint host, ulong bytes) =>
        Pinned.IsPinned(host, bytes) ? Options.PinnedCopyBytesPerSecond : Options.PageableCopyBytesPerSecond;

    protected override DeviceMemoryInfo GetMemoryInfoCore()
    {
        Scheduler.ThrowIfFaulted();
        return Memory.Info;
    }

    protected override GpuStream CreateStreamCore(int priority)
    {
        Scheduler.ThrowIfFaulted();
        return new SimStream(this, priority);
    }

    protected override GpuEvent CreateEventCore(bool enableTiming)
    {
        Scheduler.ThrowIfFaulted();
        return new SimEvent(this, enableTiming);
    }

    protected override GpuStatus TryAllocateCore(ulong bytes, out DeviceAllocation? allocation)
    {
        Scheduler.ThrowIfFaulted();
        var status = Memory.TryAllocate(bytes, out var address);
        allocation = status == GpuStatus.Success ? new SimDeviceAllocation(this, new DevicePtr(address), bytes) : null;
        return status;
    }

    protected override PinnedHostAllocation AllocatePinnedCore(ulong bytes)
    {
        Scheduler.ThrowIfFaulted();
        var pointer = PageMappings.MapAnonymous((nuint)bytes);
        Pinned.TryAdd(pointer, bytes);
        return new SimPinnedAllocation(this, pointer, bytes);
    }

    protected override HostRegistration RegisterHostMemoryCore(nint address, ulong bytes)
    {
        Scheduler.ThrowIfFaulted();
        var status = Pinned.TryAdd(address, bytes);
        return status == GpuStatus.Success
            ? new SimHostRegistration(this, address, bytes)
            : throw new GpuException(status, $"host range at 0x{address:x} (+{bytes}) overlaps one already registered");
    }

    protected override GpuModule LoadModuleCore(ModuleImage image)
    {
        Scheduler.ThrowIfFaulted();
        return new SimModule(this, SimModuleImage.EntryPoints(image));
    }

    protected override void SynchronizeCore() => Scheduler.WaitIdle(null);

    protected override AddressReservation ReserveAddressRangeCore(ulong bytes)
    {
        Scheduler.ThrowIfFaulted();
        return new SimAddressReservation(this, new DevicePtr(Memory.Reserve(bytes)), bytes);
    }

    protected override GpuStatus TryCreatePhysicalMemoryCore(ulong bytes, out PhysicalMemory? memory)
    {
        Scheduler.ThrowIfFaulted();
        var status = Memory.TryCreatePhysical(bytes, out var backing);
        memory = status == GpuStatus.Success ? new SimPhysicalMemory(this, backing!) : null;
        return status;
    }

    protected override void MapCore(DevicePtr address, ulong bytes, PhysicalMemory memory, ulong offset)
    {
        Scheduler.ThrowIfFaulted();
        Memory.Map(address.Address, bytes, ((SimPhysicalMemory)memory).Backing, offset);
    }

    protected override void SetAccessCore(DevicePtr address, ulong bytes, MemoryAccess access)
    {
        Scheduler.ThrowIfFaulted();
        Memory.SetAccess(address.Address, bytes, access);
    }

    protected override void UnmapCore(DevicePtr address, ulong bytes)
    {
        Scheduler.ThrowIfFaulted();
        Memory.Unmap(address.Address, bytes);
    }

    protected override void Release()
    {
        Scheduler.Dispose();
        Memory.Dispose();
        _backend.ContextReleased(Device.Ordinal);
    }
}
