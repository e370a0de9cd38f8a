namespace GpuMux.Bench.Plotting;

/// <summary>Draws a <see cref="LineChart"/> onto a white raster: grid, frame, ticks, titles, reference lines, series and legend.</summary>
internal sealed class LineChartRenderer
{
    private const int MinimumWidth = 240;
    private const int MinimumHeight = 160;

    private static readonly Rgb Ink = new(34, 34, 34);
    private static readonly Rgb GridColour = new(226, 226, 226);
    private static readonly Rgb ReferenceColour = new(120, 120, 120);

    private readonly LineChart _chart;
    private readonly ChartLayout _layout;
    private readonly Raster _raster;
    // Points sampled along everything drawn inside the plot, so the legend can go where it hides the least.
    private readonly List<(double X, double Y)> _inked = [];

    private LineChartRenderer(LineChart chart, int width, int height)
    {
        _chart = chart;
        _layout = ChartLayout.For(chart, width, height);
        _raster = new Raster(width, height, Rgb.White);
    }

    private int Unit => _layout.Unit;
    private PixelRect Plot => _layout.Plot;

    public static Raster Render(LineChart chart, int width, int height)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(width, MinimumWidth);
        ArgumentOutOfRangeException.ThrowIfLessThan(height, MinimumHeight);
        return new LineChartRenderer(chart, width, height).Draw();
    }

    private Raster Draw()
    {
        DrawGrid();
        DrawFrameAndTicks();
        DrawTitles();
        _raster.Clip = Plot;
        DrawReferenceLines();
        // Markers on the plot's edge (an attainment of exactly 1) are drawn whole rather than cut in half.
        var markerReach = (int)Math.Ceiling(SeriesStyle.MarkerRadiusFor(Unit)) + 1;
        _raster.Clip = new PixelRect(Plot.Left - markerReach, Plot.Top - markerReach, Plot.Width + 2 * markerReach, Plot.Height + 2 * markerReach);
        DrawSeries();
        _raster.Clip = _raster.Bounds;
        DrawReferenceLabels();
        ChartLegend.Draw(_raster, _layout, _chart.Series, _inked);
        return _raster;
    }

    private void DrawGrid()
    {
        foreach (var tick in _layout.X.Ticks())
        {
            _raster.FillRect(new PixelRect((int)_layout.PixelX(tick), Plot.Top, 1, Plot.Height), GridColour);
        }
        foreach (var tick in _layout.Y.Ticks())
        {
            _raster.FillRect(new PixelRect(Plot.Left, (int)_layout.PixelY(tick), Plot.Width, 1), GridColour);
        }
    }

    private void DrawFrameAndTicks()
    {
        _raster.StrokeRect(Plot, 1, Ink);
        foreach (var tick in _layout.X.Ticks())
        {
            var column = (int)_layout.PixelX(tick);
            _raster.FillRect(new PixelRect(column, Plot.Bottom, 1, _layout.TickLength), Ink);
            var label = _layout.X.Label(tick);
            var labelTop = Plot.Bottom + _layout.TickLength + _layout.TickLabelGap;
            BitmapFont.Draw(_raster, label, column - BitmapFont.MeasureWidth(label, Unit) / 2, labelTop, Unit, Ink);
        }
        foreach (var tick in _layout.Y.Ticks())
        {
            var row = (int)_layout.PixelY(tick);
            _raster.FillRect(new PixelRect(Plot.Left - _layout.TickLength, row, _layout.TickLength, 1), Ink);
            var label = _layout.Y.Label(tick);
            var labelLeft = Plot.Left - _layout.TickLength - _layout.TickLabelGap - BitmapFont.MeasureWidth(label, Unit);
            BitmapFont.Draw(_raster, label, labelLeft, row - _layout.CapHeight / 2, Unit, Ink);
        }
    }

    private void DrawTitles()
    {
        var titleWidth = BitmapFont.MeasureWidth(_chart.Title, _layout.TitleScale);
        var titleLeft = Math.Max(_layout.Padding, Plot.Left + (Plot.Width - titleWidth) / 2);
        BitmapFont.Draw(_raster, _chart.Title, titleLeft, _layout.Padding, _layout.TitleScale, Ink);

        var xLabelTop = Plot.Bottom + _layout.TickLength + _layout.TickLabelGap + _layout.LineHeight + _layout.Padding;
        var xLabelLeft = Plot.Left + (Plot.Width - BitmapFont.MeasureWidth(_chart.XLabel, Unit)) / 2;
        BitmapFont.Draw(_raster, _chart.XLabel, xLabelLeft, xLabelTop, Unit, Ink);

        var yLabelBottom = Plot.Top + (Plot.Height + BitmapFont.MeasureWidth(_chart.YLabel, Unit)) / 2;
        BitmapFont.DrawUpward(_raster, _chart.YLabel, _layout.Padding, yLabelBottom, Unit, Ink);
    }

    private void DrawReferenceLines()
    {
        var dash = 6 * Unit;
        var gap = 4 * Unit;
        foreach (var (value, _) in VisibleReferenceLines())
        {
            var y = _layout.PixelY(value);
            for (var x = (double)Plot.Left; x < Plot.Right; x += dash + gap)
            {
                _raster.DrawLine(x, y, Math.Min(x + dash, Plot.Right), y, Unit, ReferenceColour);
            }
            RecordInk(Plot.Left, y, Plot.Right, y);
        }
    }

    /// <summary>Labels at the right end of their lines: above a line where that clears the plot's top edge, otherwise below.</summary>
    private void DrawReferenceLabels()
    {
        foreach (var (value, label) in VisibleReferenceLines())
        {
            var y = (int)_layout.PixelY(value);
            var width = BitmapFont.MeasureWidth(label, Unit);
            var left = Plot.Right - _layout.Padding - width;
            var above = y - 3 * Unit - _layout.CapHeight;
            var top = above >= Plot.Top + 2 * Unit ? above : y + 3 * Unit;
            BitmapFont.Draw(_raster, label, left, top, Unit, ReferenceColour);
            RecordInk(left, top + _layout.CapHeight / 2.0, left + width, top + _layout.CapHeight / 2.0);
        }
    }

    private IEnumerable<(double Y, string Label)> VisibleReferenceLines() =>
        _chart.ReferenceLines.Where(line => line.Y >= _layout.Y.Min && line.Y <= _layout.Y.Max);

    private void DrawSeries()
    {
        for (var index = 0; index < _chart.Series.Count; index++)
        {
            var style = SeriesStyle.For(index, Unit);
            var points = PixelPoints(_chart.Series[index]);
            for (var i = 1; i < points.Count; i++)
            {
                if (points[i - 1] is { } from && points[i] is { } to)
                {
                    style.DrawSegment(_raster, from.X, from.Y, to.X, to.Y);
                    RecordInk(from.X, from.Y, to.X, to.Y);
                }
            }
            foreach (var point in points)
            {
                if (point is { } marker)
                {
                    style.DrawMarker(_raster, marker.X, marker.Y);
                    RecordInk(marker.X, marker.Y, marker.X, marker.Y);
                }
            }
        }
    }

    /// <summary>The series in pixel space, with null where a point is not finite and the line breaks.</summary>
    private List<(double X, double Y)?> PixelPoints(ChartSeries series) =>
        series.Points
            .Select(point => double.IsFinite(point.X) && double.IsFinite(point.Y)
                ? ((double X, double Y)?)(_layout.PixelX(point.X), _layout.PixelY(point.Y))
                : null)
            .ToList();

    private void RecordInk(double x0, double y0, double x1, double y1)
    {
        var samples = Math.Max(1, (int)(Math.Sqrt((x1 - x0) * (x1 - x0) + (y1 - y0) * (y1 - y0)) / (2 * Unit)));
        for (var i = 0; i <= samples; i++)
        {
            var t = (double)i / samples;
            _inked.Add((x0 + t * (x1 - x0), y0 + t * (y1 - y0)));
        }
    }
}
