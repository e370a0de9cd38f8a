namespace GpuMux.Gpu.Sim;

internal sealed class SimLaunch(SimStream stream, SimKernel kernel, KernelArgument[] arguments) : SimOperation(stream)
{
    public override SimEngine Engine => SimEngine.Compute;

    public override long Execute(SimMemory memory, SimDeviceOptions device)
    {
        var latency = SimClock.Ticks(device.OperationLatency);
        return ((SimContext)Stream.Context).KernelsRun ? latency + kernel.Run(new SimKernelInvocation(arguments, memory, device)) : latency;
    }
}
