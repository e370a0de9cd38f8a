namespace GpuMux.Bench.Scheduling;

/// <summary>Popularity by rank: model k (0 the most popular) is chosen with probability proportional to 1 / (k + 1)^s.</summary>
internal sealed class ZipfPopularity
{
    private readonly double[] _cumulative;

    public ZipfPopularity(int models, double exponent)
    {
        var weights = Enumerable.Range(1, models).Select(rank => Math.Pow(rank, -exponent)).ToArray();
        var total = weights.Sum();
        Shares = [.. weights.Select(w => w / total)];
        _cumulative = new double[models];
        var sum = 0.0;
        for (var i = 0; i < models; i++)
        {
            sum += Shares[i];
            _cumulative[i] = sum;
        }
    }

    /// <summary>Each model's share of the requests, by rank.</summary>
    public IReadOnlyList<double> Shares { get; }

    /// <summary>The model that a uniform draw in [0, 1) picks.</summary>
    public int Pick(double uniform)
    {
        var index = Array.BinarySearch(_cumulative, uniform);
        // Not found: the complement of the first entry above the draw; rounding may leave the last below 1.
        return Math.Min(index >= 0 ? index + 1 : ~index, _cumulative.Length - 1);
    }
}
