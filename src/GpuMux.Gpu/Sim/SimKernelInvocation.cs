namespace GpuMux.Gpu.Sim;

/// <summary>What a simulated kernel body sees: its arguments, and device memory through checked spans.</summary>
internal readonly unsafe struct SimKernelInvocation(ArraySegment<KernelArgument> arguments, SimMemory memory, SimDeviceOptions device)
{
    public KernelArgument this[int index] => arguments[index];

    public ReadOnlySpan<T> Read<T>(int argument, ulong count)
        where T : unmanaged => Resolve<T>(argument, count, write: false);

    public Span<T> Write<T>(int argument, ulong count)
        where T : unmanaged => Resolve<T>(argument, count, write: true);

    /// <summary>
    /// The bytes an argument points to, for kernels that walk buffers larger than one span can
    /// hold (a model's weights); the caller reads them in chunks.
    /// </summary>
    public nint ReadRaw(int argument, ulong bytes) => memory.Resolve(arguments[argument].AsPointer(), bytes, write: false);

    /// <summary>Modelled time for a kernel whose cost is moving <paramref name="bytes"/> through device memory.</summary>
    public long MemoryBound(ulong bytes) => SimClock.Ticks(bytes / device.DeviceMemoryBytesPerSecond);

    /// <summary>Faults as a GPU does when a kernel loads through a pointer not aligned for its type.</summary>
    public void RequireAligned(int argument, ulong alignment)
    {
        var address = arguments[argument].AsPointer();
        if (address.Address % alignment != 0)
        {
            throw new GpuException(GpuStatus.KernelFault, $"misaligned address: argument {argument} ({address}) must be aligned to {alignment} bytes");
        }
    }

    private Span<T> Resolve<T>(int argument, ulong count, bool write)
        where T : unmanaged
    {
        if (count > int.MaxValue)
        {
            throw new GpuException(GpuStatus.NotSupported, $"the simulated device runs kernels on at most {int.MaxValue} elements per buffer");
        }
        var address = arguments[argument].AsPointer();
        RequireAligned(argument, (ulong)sizeof(T));
        var pointer = memory.Resolve(address, count * (ulong)sizeof(T), write);
        return new Span<T>((void*)pointer, (int)count);
    }
}
