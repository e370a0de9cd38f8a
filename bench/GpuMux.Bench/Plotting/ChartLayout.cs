namespace GpuMux.Bench.Plotting;

/// <summary>Where the parts of a chart go: the plot area, the axis scales fitted to it, and the sizes of text and marks.</summary>
/// <param name="Unit">Pixels to a font pixel, and the measure of every other size: 2 at the default 960 × 600, 1 on smaller charts.</param>
internal sealed record ChartLayout(int Unit, int TitleScale, PixelRect Plot, AxisScale X, AxisScale Y)
{
    private const int PaddingUnits = 10;
    private const int TickLengthUnits = 4;
    private const int TickLabelGapUnits = 3;

    public int Padding => PaddingUnits * Unit;
    public int TickLength => TickLengthUnits * Unit;
    public int TickLabelGap => TickLabelGapUnits * Unit;
    public int CapHeight => BitmapFont.CapHeight(Unit);
    public int LineHeight => BitmapFont.LineHeight(Unit);

    /// <summary>The pixel-space x of a data value; the axis ends fall on the centres of the plot's outermost pixels.</summary>
    public double PixelX(double x) => Plot.Left + 0.5 + X.Fraction(x) * (Plot.Width - 1);

    public double PixelY(double y) => Plot.Bottom - 0.5 - Y.Fraction(y) * (Plot.Height - 1);

    public static ChartLayout For(LineChart chart, int width, int height)
    {
        var unit = Math.Max(1, Math.Min(width / 480, height / 300));
        var padding = PaddingUnits * unit;
        var tickSpace = (TickLengthUnits + TickLabelGapUnits) * unit;
        var line = BitmapFont.LineHeight(unit);
        var titleScale = BitmapFont.MeasureWidth(chart.Title, unit + 1) <= width - 2 * padding ? unit + 1 : unit;

        // The top tick label is centred on the plot's top edge, so half of it stands above.
        var top = padding + TitleSpace(chart.Title, BitmapFont.LineHeight(titleScale), padding) + BitmapFont.CapHeight(unit) / 2;
        var bottom = height - padding - TitleSpace(chart.XLabel, line, padding) - line - tickSpace;
        var (xMin, xMax, yMin, yMax) = DataBounds(chart);
        var y = AxisScale.Nice(yMin, yMax, chart.YMin, chart.YMax, (bottom - top) / (40 * unit));

        var yLabelWidth = y.Ticks().Max(tick => BitmapFont.MeasureWidth(y.Label(tick), unit));
        var left = padding + TitleSpace(chart.YLabel, line, padding) + yLabelWidth + tickSpace;
        var x = FitXScale(xMin, xMax, chart.XMin, chart.XMax, width - left - padding, unit);
        // Tick labels are centred on their ticks, so the last one stands half out past the plot's right edge.
        var right = width - padding - x.Ticks().Max(tick => BitmapFont.MeasureWidth(x.Label(tick), unit)) / 2;

        var plot = new PixelRect(left, top, right - left, bottom - top);
        if (plot.Width < 10 * unit || plot.Height < 10 * unit)
        {
            throw new ArgumentException($"a {width} x {height} chart leaves no room to plot beside its titles and tick labels");
        }
        return new ChartLayout(unit, titleScale, plot, x, y);
    }

    /// <summary>The x scale with the most ticks, up to one per 50 units, whose labels still stand apart.</summary>
    private static AxisScale FitXScale(double dataMin, double dataMax, double? fixedMin, double? fixedMax, int plotWidth, int unit)
    {
        for (var target = plotWidth / (50 * unit); ; target--)
        {
            var scale = AxisScale.Nice(dataMin, dataMax, fixedMin, fixedMax, target);
            var ticks = scale.Ticks().ToList();
            var spacing = ticks.Max(tick => BitmapFont.MeasureWidth(scale.Label(tick), unit)) + PaddingUnits * unit;
            if (target <= 2 || ticks.Count * spacing <= plotWidth)
            {
                return scale;
            }
        }
    }

    private static int TitleSpace(string title, int textHeight, int padding) => title.Length == 0 ? 0 : textHeight + padding;

    /// <summary>The extent of the finite points, with the reference lines counted in y so that they stay in view.</summary>
    private static (double XMin, double XMax, double YMin, double YMax) DataBounds(LineChart chart)
    {
        var (xMin, xMax, yMin, yMax) = (double.PositiveInfinity, double.NegativeInfinity, double.PositiveInfinity, double.NegativeInfinity);
        foreach (var (x, y) in chart.Series.SelectMany(series => series.Points))
        {
            if (double.IsFinite(x) && double.IsFinite(y))
            {
                (xMin, xMax) = (Math.Min(xMin, x), Math.Max(xMax, x));
                (yMin, yMax) = (Math.Min(yMin, y), Math.Max(yMax, y));
            }
        }
        foreach (var (y, _) in chart.ReferenceLines)
        {
            if (double.IsFinite(y))
            {
                (yMin, yMax) = (Math.Min(yMin, y), Math.Max(yMax, y));
            }
        }
        return (xMin, xMax, yMin, yMax);
    }
}
