namespace GpuMux.Gpu.Sim;

/// <summary>
/// A kernel the simulated device can run: its parameter types, checked at launch, and a C#
/// body that does the real work and returns the modelled time in <see cref="SimClock"/> ticks.
/// </summary>
internal sealed record SimKernel(string Name, KernelArgumentKind[] Signature, Func<SimKernelInvocation, long> Run)
{
    public void CheckArguments(KernelArguments arguments)
    {
        var items = arguments.Items;
        if (items.Length != Signature.Length)
        {
            throw new GpuException(GpuStatus.InvalidValue, $"kernel {Name} takes {Signature.Length} arguments, the launch passed {items.Length}");
        }
        for (var i = 0; i < items.Length; i++)
        {
            if (items[i].Kind != Signature[i])
            {
                throw new GpuException(GpuStatus.InvalidValue, $"argument {i} of kernel {Name} must be {Signature[i]}, the launch passed {items[i].Kind}");
            }
        }
    }
}
