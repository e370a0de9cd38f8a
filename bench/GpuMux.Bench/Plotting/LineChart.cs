using ScottPlot;

namespace GpuMux.Bench.Plotting;

/// <summary>
/// A line chart of one or more series, written as a PNG. Axis ends left unset are fitted to the
/// data and the reference lines.
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
        var plot = new Plot();
        plot.Title(Title);
        plot.XLabel(XLabel);
        plot.YLabel(YLabel);
        var palette = new ScottPlot.Palettes.Category10();
        for (var i = 0; i < Series.Count; i++)
        {
            // Shapes alternate as well as colours, so that neighbouring series differ in grey too.
            var marker = i % 2 == 0 ? MarkerShape.FilledCircle : MarkerShape.FilledSquare;
            var named = false;
            foreach (var segment in Segments(Series[i].Points))
            {
                var line = plot.Add.Scatter(segment.Select(p => p.X).ToArray(), segment.Select(p => p.Y).ToArray(), palette.GetColor(i));
                line.MarkerShape = marker;
                line.MarkerSize = 8;
                line.LineWidth = 2;
                if (!named)
                {
                    line.LegendText = Series[i].Name;
                    named = true;
                }
            }
        }
        foreach (var (y, label) in ReferenceLines)
        {
            var line = plot.Add.HorizontalLine(y);
            line.LinePattern = LinePattern.Dashed;
            line.Color = Colors.Gray;
            line.LegendText = label;
        }
        plot.Axes.AutoScale();
        var fitted = plot.Axes.GetLimits();
        plot.Axes.SetLimits(XMin ?? fitted.Left, XMax ?? fitted.Right, YMin ?? fitted.Bottom, YMax ?? fitted.Top);
        plot.ShowLegend(Alignment.LowerRight);
        plot.SavePng(path, width, height);
    }

    /// <summary>The runs of finite points: a non-finite point breaks the line.</summary>
    private static IEnumerable<List<(double X, double Y)>> Segments(IReadOnlyList<(double X, double Y)> points)
    {
        var segment = new List<(double X, double Y)>();
        foreach (var point in points)
        {
            if (double.IsFinite(point.X) && double.IsFinite(point.Y))
            {
                segment.Add(point);
            }
            else if (segment.Count > 0)
            {
                yield return segment;
                segment = [];
            }
        }
        if (segment.Count > 0)
        {
            yield return segment;
        }
    }
}
