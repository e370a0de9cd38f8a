using GpuMux.Engine;

namespace GpuMux.Bench.Models;

/// <summary>
/// What one engine measured for two models A and B of one size, swapping in chunks of
/// <see cref="ChunkBytes"/>: the swap-ins (steps that wait for the whole model and compute
/// next to nothing), the engine's own swap-in figures after them, and, unless this is a run of
/// the chunk sweep, cold and resident steps of a gemv over every layer.
/// </summary>
internal sealed record ModelRun(
    ModelGeometry Geometry,
    ulong ChunkBytes,
    ulong DevicePoolBytes,
    IReadOnlyList<StepSample> Swaps,
    IReadOnlyList<ModelStatus> EngineFigures,
    IReadOnlyList<StepSample> Cold,
    IReadOnlyList<StepSample> Resident)
{
    public int ChunkMib => (int)(ChunkBytes >> 20);

    public SampleStatistics SwapMilliseconds => SampleStatistics.Of(Swaps.Select(s => s.GpuMilliseconds));

    /// <summary>Bytes per second of the median swap-in step.</summary>
    public double StepTimedRate => Geometry.Bytes / (SwapMilliseconds.Median / 1e3);

    /// <summary>
    /// The engine's median swap-in rate (its events around the copies, first to last), the lower
    /// of models A's and B's; null if either has none.
    /// </summary>
    public double? EngineRate =>
        EngineFigures.Count > 0 && EngineFigures.All(m => m.MedianSwapInBytesPerSecond is not null)
            ? EngineFigures.Min(m => m.MedianSwapInBytesPerSecond!.Value)
            : null;

    public bool HasSteps => Cold.Count > 0;

    public double ColdMilliseconds => SampleStatistics.Of(Cold.Select(s => s.GpuMilliseconds)).Median;

    public double ResidentMilliseconds => SampleStatistics.Of(Resident.Select(s => s.GpuMilliseconds)).Median;

    /// <summary>Transfer, then compute: the swap-in alone and the same step on the resident model, one after the other.</summary>
    public double SequentialMilliseconds => SwapMilliseconds.Median + ResidentMilliseconds;

    public double PipeliningGain => SequentialMilliseconds / ColdMilliseconds;

    public IEnumerable<StepSample> AllSteps => Swaps.Concat(Cold).Concat(Resident);

    public bool AllVerified => AllSteps.All(s => s.Verified);
}
