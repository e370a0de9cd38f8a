using GpuMux.Gpu.Cuda.Native;
using static GpuMux.Gpu.Cuda.CudaCheck;
using static GpuMux.Gpu.Cuda.Native.CudaDriver;

namespace GpuMux.Gpu.Cuda;

internal sealed unsafe class CudaStream : GpuStream
{
    // Far above any real kernel's parameter list; it bounds the stack the launch uses.
    private const int MaxKernelArguments = 256;

    private readonly nint _stream;
    private readonly CudaHandle _owned;

    public CudaStream(CudaContext context, int priority)
        : base(context, priority)
    {
        nint stream;
        // Non-blocking: no implicit synchronisation with the legacy default stream, which a
        // library sharing the primary context might use.
        ThrowIfFailed(cuStreamCreateWithPriority(&stream, CudaConstants.CU_STREAM_NON_BLOCKING, priority));
        _stream = stream;
        _owned = new CudaHandle(context, CudaHandleKind.Stream, stream);
    }

    protected override void CopyToDeviceCore(DevicePtr destination, nint source, ulong bytes) =>
        ThrowIfFailed(cuMemcpyHtoDAsync_v2(destination.Address, (void*)source, (nuint)bytes, _stream));

    protected override void CopyToHostCore(nint destination, DevicePtr source, ulong bytes) =>
        ThrowIfFailed(cuMemcpyDtoHAsync_v2((void*)destination, source.Address, (nuint)bytes, _stream));

    protected override void CopyOnDeviceCore(DevicePtr destination, DevicePtr source, ulong bytes) =>
        ThrowIfFailed(cuMemcpyDtoDAsync_v2(destination.Address, source.Address, (nuint)bytes, _stream));

    protected override void Memset8Core(DevicePtr destination, byte value, ulong count) =>
        ThrowIfFailed(cuMemsetD8Async(destination.Address, value, (nuint)count, _stream));

    protected override void Memset32Core(DevicePtr destination, uint value, ulong count) =>
        ThrowIfFailed(cuMemsetD32Async(destination.Address, value, (nuint)count, _stream));

    protected override void LaunchCore(GpuFunction function, LaunchConfig config, KernelArguments arguments)
    {
        var items = arguments.Items;
        if (items.Length > MaxKernelArguments)
        {
            throw new GpuException(GpuStatus.InvalidValue, $"a launch takes at most {MaxKernelArguments} arguments");
        }
        // The driver reads each parameter through a pointer to its value; every value sits in
        // the low bytes of its own 8-byte slot, which is the layout for 4- and 8-byte types.
        var values = stackalloc ulong[items.Length];
        var pointers = stackalloc void*[items.Length];
        for (var i = 0; i < items.Length; i++)
        {
            values[i] = items[i].Bits;
            pointers[i] = &values[i];
        }
        var (grid, block) = (config.Grid, config.Block);
        ThrowIfFailed(cuLaunchKernel(
            ((CudaFunction)function).Handle,
            grid.X, grid.Y, grid.Z,
            block.X, block.Y, block.Z,
            config.SharedMemoryBytes,
            _stream,
            pointers,
            null));
    }

    protected override void RecordCore(GpuEvent marker) => ThrowIfFailed(cuEventRecord(((CudaEvent)marker).Handle, _stream));

    protected override void WaitCore(GpuEvent marker) => ThrowIfFailed(cuStreamWaitEvent(_stream, ((CudaEvent)marker).Handle, 0));

    protected override void LaunchHostFunctionCore(delegate* unmanaged<nint, void> function, nint userData) =>
        ThrowIfFailed(cuLaunchHostFunc(_stream, function, userData));

    protected override bool IsIdleCore() => IsDone(cuStreamQuery(_stream));

    protected override void SynchronizeCore() => ThrowIfFailed(cuStreamSynchronize(_stream));

    protected override void Release() => _owned.Dispose();
}
