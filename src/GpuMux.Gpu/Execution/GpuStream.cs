namespace GpuMux.Gpu;

/// <summary>
/// An ordered queue of device work at one priority. Work on one stream runs in submission
/// order; work on different streams is ordered only through events. Every call returns once
/// the work is queued, except <see cref="Synchronize"/> and the blocking copies.
/// </summary>
public abstract class GpuStream(GpuContext context, int priority) : GpuContextResource(context)
{
    public int Priority { get; } = priority;

    public void CopyToDevice(DevicePtr destination, nint source, ulong bytes)
    {
        EnterCall();
        CopyToDeviceCore(destination, source, bytes);
    }

    public void CopyToHost(nint destination, DevicePtr source, ulong bytes)
    {
        EnterCall();
        CopyToHostCore(destination, source, bytes);
    }

    public void CopyOnDevice(DevicePtr destination, DevicePtr source, ulong bytes)
    {
        EnterCall();
        CopyOnDeviceCore(destination, source, bytes);
    }

    /// <summary>Sets <paramref name="count"/> bytes to <paramref name="value"/>.</summary>
    public void Memset8(DevicePtr destination, byte value, ulong count)
    {
        EnterCall();
        Memset8Core(destination, value, count);
    }

    /// <summary>Sets <paramref name="count"/> 32-bit words to <paramref name="value"/>; the address must be 4-byte aligned.</summary>
    public void Memset32(DevicePtr destination, uint value, ulong count)
    {
        EnterCall();
        Memset32Core(destination, value, count);
    }

    /// <summary>
    /// Queues <paramref name="function"/>. Its arguments must match its parameters in number and
    /// size, or the launch is an <see cref="GpuStatus.InvalidValue"/> error naming the parameter.
    /// </summary>
    public void Launch(GpuFunction function, LaunchConfig config, KernelArguments arguments)
    {
        EnterCall();
        if (function.Module.Context != Context || function.Module.IsDisposed)
        {
            throw new GpuException(GpuStatus.InvalidHandle, $"kernel {function.Name} does not belong to a live module of this context");
        }
        KernelLaunchCheck.Check(function.Name, function.Parameters, arguments.Items);
        LaunchCore(function, config, arguments);
    }

    /// <summary>Marks this point in the stream: the event completes when all work queued before it has.</summary>
    public void Record(GpuEvent marker)
    {
        EnterCall();
        RequireSameContext(marker);
        RecordCore(marker);
    }

    /// <summary>Holds later work on this stream until <paramref name="marker"/>, as last recorded, completes.</summary>
    public void Wait(GpuEvent marker)
    {
        EnterCall();
        RequireSameContext(marker);
        WaitCore(marker);
    }

    /// <summary>
    /// Queues a call of <paramref name="function"/> with <paramref name="userData"/> on a host thread
    /// of the backend's, once all work queued before it has completed; later work on the stream
    /// waits for it to return. It must make no GPU call (every call is refused off the context's
    /// thread) and must not wait for device work. Once the context has faulted it is never called.
    /// </summary>
    public unsafe void LaunchHostFunction(delegate* unmanaged<nint, void> function, nint userData)
    {
        EnterCall();
        ArgumentNullException.ThrowIfNull(function);
        LaunchHostFunctionCore(function, userData);
    }

    /// <summary>True when all queued work has finished. A kernel fault surfaces here.</summary>
    public bool IsIdle()
    {
        EnterCall();
        return IsIdleCore();
    }

    public void Synchronize()
    {
        EnterCall();
        SynchronizeCore();
    }

    /// <summary>Copies <paramref name="source"/> to the device and returns when it has arrived.</summary>
    public unsafe void Upload<T>(DevicePtr destination, ReadOnlySpan<T> source)
        where T : unmanaged
    {
        fixed (T* pointer = source)
        {
            CopyToDevice(destination, (nint)pointer, (ulong)source.Length * (ulong)sizeof(T));
            Synchronize();
        }
    }

    /// <summary>New device memory holding a copy of <paramref name="source"/>, there when this returns.</summary>
    public unsafe DeviceAllocation AllocateAndUpload<T>(ReadOnlySpan<T> source)
        where T : unmanaged
    {
        var allocation = Context.Allocate(Math.Max(1, (ulong)source.Length * (ulong)sizeof(T)));
        try
        {
            Upload(allocation.Pointer, source);
            return allocation;
        }
        catch
        {
            allocation.Dispose();
            throw;
        }
    }

    /// <summary>Copies from the device into <paramref name="destination"/> and returns when it has arrived.</summary>
    public unsafe void Download<T>(Span<T> destination, DevicePtr source)
        where T : unmanaged
    {
        fixed (T* pointer = destination)
        {
            CopyToHost((nint)pointer, source, (ulong)destination.Length * (ulong)sizeof(T));
            Synchronize();
        }
    }

    protected abstract void CopyToDeviceCore(DevicePtr destination, nint source, ulong bytes);

    protected abstract void CopyToHostCore(nint destination, DevicePtr source, ulong bytes);

    protected abstract void CopyOnDeviceCore(DevicePtr destination, DevicePtr source, ulong bytes);

    protected abstract void Memset8Core(DevicePtr destination, byte value, ulong count);

    protected abstract void Memset32Core(DevicePtr destination, uint value, ulong count);

    protected abstract void LaunchCore(GpuFunction function, LaunchConfig config, KernelArguments arguments);

    protected abstract void RecordCore(GpuEvent marker);

    protected abstract void WaitCore(GpuEvent marker);

    protected abstract unsafe void LaunchHostFunctionCore(delegate* unmanaged<nint, void> function, nint userData);

    protected abstract bool IsIdleCore();

    protected abstract void SynchronizeCore();

    private void RequireSameContext(GpuEvent marker)
    {
        if (marker.Context != Context || marker.IsDisposed)
        {
            throw new GpuException(GpuStatus.InvalidHandle, "the event does not belong to a live event of this context");
        }
    }
}
