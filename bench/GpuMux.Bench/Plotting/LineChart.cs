namespace GpuMux.Bench.Plotting;

/// <summary>
/// A line chart of one or more series, written as a PNG. Axis ends left unset are fitted to the data
/// and the reference lines, widened to whole ticks.
/// </summary>
internal sealed record LineChart(string Title, string XLabel, string YLabel, IReadOnlyList<ChartSeries> Series)
{
    public double? XMin { get; init; }
    public double? XMax { get; init; }
    public double? YMin { get; init; }
    public double? YMax { get; init; }

    /// <summary>Dashed horizontal lines across the plot, each labelled, such as an SLO target.</summary>
    public IReadOnlyList<(double Y, string Label)> ReferenceLines { get; init; } = [];

    public void WritePng(string path, int width = 960, int height = 600)
    {
        var raster = LineChartRenderer.Render(this, width, height);
        using var file = File.Create(path);
        PngEncoder.Write(raster, file);
    }
}
