namespace GpuMux.Bench.Plotting;

/// <summary>How one series is drawn, the same in the plot and in the legend.</summary>
internal readonly record struct SeriesStyle(Rgb Colour, MarkerShape Marker, double LineThickness, double MarkerRadius)
{
    // Distinct in hue and in lightness on white; shapes alternate too, so neighbours still differ in grey.
    private static readonly Rgb[] Palette =
    [
        new(31, 119, 180),
        new(230, 97, 1),
        new(44, 160, 44),
        new(214, 39, 40),
        new(148, 103, 189),
        new(140, 86, 75),
        new(227, 119, 194),
        new(100, 100, 100),
        new(188, 189, 34),
        new(23, 190, 207),
    ];

    /// <param name="unit">The chart's <see cref="ChartLayout.Unit"/>.</param>
    public static SeriesStyle For(int seriesIndex, int unit) => new(
        Palette[seriesIndex % Palette.Length],
        seriesIndex % 2 == 0 ? MarkerShape.Circle : MarkerShape.Square,
        LineThickness: unit,
        MarkerRadius: MarkerRadiusFor(unit));

    public static double MarkerRadiusFor(int unit) => 2 * unit;

    public void DrawSegment(Raster raster, double x0, double y0, double x1, double y1) =>
        raster.DrawLine(x0, y0, x1, y1, LineThickness, Colour);

    public void DrawMarker(Raster raster, double x, double y)
    {
        if (Marker == MarkerShape.Circle)
        {
            raster.FillCircle(x, y, MarkerRadius, Colour);
            return;
        }
        // A square a little narrower than the circle's diameter looks the same weight as the circle.
        var side = (int)Math.Round(1.8 * MarkerRadius);
        raster.FillRect(new PixelRect((int)Math.Round(x - side / 2.0), (int)Math.Round(y - side / 2.0), side, side), Colour);
    }
}
