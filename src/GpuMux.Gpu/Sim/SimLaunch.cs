namespace GpuMux.Gpu.Sim;

/// <summary>A kernel launch; its stream reuses it, with its copy of the arguments, once it has completed.</summary>
internal sealed class SimLaunch(SimStream stream) : SimOperation(stream)
{
    private SimKernel? _kernel;
    private KernelArgument[] _arguments = [];
    private int _count;

    public override SimEngine Engine => SimEngine.Compute;

    public void Set(SimKernel kernel, ReadOnlySpan<KernelArgument> arguments)
    {
        if (_arguments.Length < arguments.Length)
        {
            _arguments = new KernelArgument[arguments.Length];
        }

        arguments.CopyTo(_arguments);
        _count = arguments.Length;
        _kernel = kernel;
    }

    public override long Execute(SimMemory memory, SimDeviceOptions device)
    {
        var latency = SimClock.Ticks(device.OperationLatency);
        return ((SimContext)Stream.Context).KernelsRun
            ? latency + _kernel!.Run(new SimKernelInvocation(new ArraySegment<KernelArgument>(_arguments, 0, _count), memory, device))
            : latency;
    }
}
