namespace GpuMux.Bench.Plotting;

/// <summary>The key to the series, boxed in whichever corner of the plot covers the fewest drawn points.</summary>
internal static class ChartLegend
{
    private static readonly Rgb BorderColour = new(170, 170, 170);
    private static readonly Rgb TextColour = new(34, 34, 34);

    public static void Draw(Raster raster, ChartLayout layout, IReadOnlyList<ChartSeries> series, IReadOnlyList<(double X, double Y)> inked)
    {
        if (series.Count == 0)
        {
            return;
        }
        var unit = layout.Unit;
        var padding = 6 * unit;
        var sampleWidth = 20 * unit;
        var sampleGap = 6 * unit;
        var rowGap = 3 * unit;
        var rowHeight = layout.LineHeight + rowGap;
        var box = Place(
            layout,
            width: 2 * padding + sampleWidth + sampleGap + series.Max(entry => BitmapFont.MeasureWidth(entry.Name, unit)),
            height: 2 * padding + series.Count * rowHeight - rowGap,
            inked);

        raster.FillRect(box, Rgb.White);
        raster.StrokeRect(box, 1, BorderColour);
        for (var index = 0; index < series.Count; index++)
        {
            var style = SeriesStyle.For(index, unit);
            var top = box.Top + padding + index * rowHeight;
            var middle = top + layout.CapHeight / 2.0;
            var left = box.Left + padding;
            style.DrawSegment(raster, left, middle, left + sampleWidth, middle);
            style.DrawMarker(raster, left + sampleWidth / 2.0, middle);
            BitmapFont.Draw(raster, series[index].Name, left + sampleWidth + sampleGap, top, unit, TextColour);
        }
    }

    /// <summary>The first of top right, top left, bottom right and bottom left that covers the fewest inked points.</summary>
    private static PixelRect Place(ChartLayout layout, int width, int height, IReadOnlyList<(double X, double Y)> inked)
    {
        var plot = layout.Plot;
        var inset = 4 * layout.Unit;
        var left = plot.Left + inset;
        var right = plot.Right - inset - width;
        var top = plot.Top + inset;
        var bottom = plot.Bottom - inset - height;
        PixelRect[] corners =
        [
            new(right, top, width, height),
            new(left, top, width, height),
            new(right, bottom, width, height),
            new(left, bottom, width, height),
        ];
        // A point just outside the box still has its line's thickness and its marker inside.
        var margin = 3 * layout.Unit;
        return corners.MinBy(corner => inked.Count(point =>
            point.X >= corner.Left - margin && point.X < corner.Right + margin &&
            point.Y >= corner.Top - margin && point.Y < corner.Bottom + margin));
    }
}
