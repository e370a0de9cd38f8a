namespace GpuMux.Gpu;

/// <summary>
/// The stream priorities a device accepts, numbered as CUDA numbers them: a lower number is a
/// higher priority, so <see cref="Greatest"/> is less than or equal to <see cref="Least"/>.
/// </summary>
public readonly record struct StreamPriorityRange(int Least, int Greatest)
{
    public bool Contains(int priority) => priority >= Greatest && priority <= Least;

    /// <summary>Number of distinct priority levels.</summary>
    public int Levels => Least - Greatest + 1;

    public override string ToString() => $"{Greatest} (highest) .. {Least} (lowest)";
}
