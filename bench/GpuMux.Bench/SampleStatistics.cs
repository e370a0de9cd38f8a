namespace GpuMux.Bench;

internal readonly record struct SampleStatistics(double Median, double Min, double Max)
{
    public static SampleStatistics Of(IEnumerable<double> samples)
    {
        var sorted = samples.Order().ToArray();
        if (sorted.Length == 0)
        {
            throw new ArgumentException("no samples", nameof(samples));
        }
        var middle = sorted.Length / 2;
        var median = sorted.Length % 2 == 1 ? sorted[middle] : (sorted[middle - 1] + sorted[middle]) / 2;
        return new SampleStatistics(median, sorted[0], sorted[^1]);
    }
}
