using GpuMux.Gpu.Cuda.Native;
using static GpuMux.Gpu.Cuda.CudaCheck;
using static GpuMux.Gpu.Cuda.Native.CudaDriver;

namespace GpuMux.Gpu.Cuda;

internal sealed unsafe class CudaEvent : GpuEvent
{
    private readonly CudaHandle _owned;

    public CudaEvent(CudaContext context, bool enableTiming)
        : base(context, enableTiming)
    {
        nint handle;
        ThrowIfFailed(cuEventCreate(&handle, enableTiming ? CudaConstants.CU_EVENT_DEFAULT : CudaConstants.CU_EVENT_DISABLE_TIMING));
        Handle = handle;
        _owned = new CudaHandle(context, CudaHandleKind.Event, handle);
    }

    public nint Handle { get; }

    protected override bool IsCompleteCore() => IsDone(cuEventQuery(Handle));

    protected override void SynchronizeCore() => ThrowIfFailed(cuEventSynchronize(Handle));

    protected override float ElapsedSinceCore(GpuEvent start)
    {
        float milliseconds;
        ThrowIfFailed(cuEventElapsedTime(&milliseconds, ((CudaEvent)start).Handle, Handle));
        return milliseconds;
    }

    protected override void Release() => _owned.Dispose();
}
