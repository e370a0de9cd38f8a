namespace GpuMux.Bench.Plotting;

/// <summary>One named line of a <see cref="LineChart"/>; points are joined in the order given, and a non-finite point breaks the line.</summary>
internal sealed record ChartSeries(string Name, IReadOnlyList<(double X, double Y)> Points);
