namespace GpuMux.Gpu.Sim;

internal sealed class SimModule(SimContext context, IReadOnlyList<string> entryPoints) : GpuModule(context)
{
    protected override GpuFunction GetFunctionCore(string name)
    {
        context.Scheduler.ThrowIfFaulted();
        if (!entryPoints.Contains(name))
        {
            throw new GpuException(GpuStatus.NotFound, $"module has no kernel named {name}");
        }
        return SimKernels.Builtin.TryGetValue(name, out var kernel)
            ? new SimFunction(this, kernel)
            : throw new GpuException(GpuStatus.NotSupported, $"kernel {name} has no simulated implementation; the Sim backend runs the built-in kernels only");
    }

    protected override void Release()
    {
    }
}

internal sealed class SimFunction(SimModule module, SimKernel kernel) : GpuFunction(module, kernel.Name, kernel.Parameters)
{
    public SimKernel Kernel { get; } = kernel;
}
