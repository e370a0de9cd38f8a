namespace GpuMux.Bench.Plotting;

/// <summary>An 8-bit RGB image, rows top to bottom, three bytes a pixel; every drawing call is clipped to <see cref="Clip"/>.</summary>
internal sealed class Raster
{
    private readonly byte[] _pixels;
    private PixelRect _clip;

    public Raster(int width, int height, Rgb background)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(width);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(height);
        Width = width;
        Height = height;
        _pixels = new byte[checked(width * height * 3)];
        _clip = Bounds;
        FillRect(Bounds, background);
    }

    public int Width { get; }
    public int Height { get; }
    public PixelRect Bounds => new(0, 0, Width, Height);

    public PixelRect Clip
    {
        get => _clip;
        set => _clip = value.Intersect(Bounds);
    }

    public ReadOnlySpan<byte> Row(int y) => _pixels.AsSpan(y * Width * 3, Width * 3);

    /// <summary>Mixes <paramref name="colour"/> into one pixel; <paramref name="coverage"/> is the covered fraction of the pixel, 0 to 1.</summary>
    public void Blend(int x, int y, Rgb colour, double coverage)
    {
        if (coverage <= 0 || !_clip.Contains(x, y))
        {
            return;
        }
        var alpha = Math.Min(coverage, 1);
        var offset = (y * Width + x) * 3;
        _pixels[offset] = Mix(_pixels[offset], colour.R, alpha);
        _pixels[offset + 1] = Mix(_pixels[offset + 1], colour.G, alpha);
        _pixels[offset + 2] = Mix(_pixels[offset + 2], colour.B, alpha);
    }

    public void FillRect(PixelRect rect, Rgb colour)
    {
        var area = rect.Intersect(_clip);
        for (var y = area.Top; y < area.Bottom; y++)
        {
            for (var x = area.Left; x < area.Right; x++)
            {
                Blend(x, y, colour, 1);
            }
        }
    }

    public void StrokeRect(PixelRect rect, int thickness, Rgb colour)
    {
        FillRect(rect with { Height = thickness }, colour);
        FillRect(rect with { Top = rect.Bottom - thickness, Height = thickness }, colour);
        FillRect(rect with { Width = thickness }, colour);
        FillRect(rect with { Left = rect.Right - thickness, Width = thickness }, colour);
    }

    /// <summary>An anti-aliased line with round ends, in pixel coordinates where pixel (x, y) spans [x, x + 1) × [y, y + 1).</summary>
    /// <remarks>
    /// Coverage comes from each pixel centre's distance to the segment, which gives any thickness
    /// and round ends, so consecutive segments of a polyline join without gaps or notches.
    /// </remarks>
    public void DrawLine(double x0, double y0, double x1, double y1, double thickness, Rgb colour)
    {
        var reach = thickness / 2 + 0.5;
        var area = Covering(Math.Min(x0, x1) - reach, Math.Min(y0, y1) - reach, Math.Max(x0, x1) + reach, Math.Max(y0, y1) + reach);
        var dx = x1 - x0;
        var dy = y1 - y0;
        var lengthSquared = dx * dx + dy * dy;
        for (var y = area.Top; y < area.Bottom; y++)
        {
            for (var x = area.Left; x < area.Right; x++)
            {
                var cx = x + 0.5;
                var cy = y + 0.5;
                var t = lengthSquared == 0 ? 0 : Math.Clamp(((cx - x0) * dx + (cy - y0) * dy) / lengthSquared, 0, 1);
                var distance = Math.Sqrt(Square(cx - (x0 + t * dx)) + Square(cy - (y0 + t * dy)));
                Blend(x, y, colour, reach - distance);
            }
        }
    }

    public void FillCircle(double centreX, double centreY, double radius, Rgb colour) =>
        DrawLine(centreX, centreY, centreX, centreY, 2 * radius, colour);

    /// <summary>The clipped whole pixels touched by a box in pixel coordinates, clamped before conversion so far-off data cannot overflow.</summary>
    private PixelRect Covering(double left, double top, double right, double bottom)
    {
        var x0 = (int)Math.Floor(Math.Clamp(left, _clip.Left, _clip.Right));
        var y0 = (int)Math.Floor(Math.Clamp(top, _clip.Top, _clip.Bottom));
        var x1 = (int)Math.Ceiling(Math.Clamp(right, _clip.Left, _clip.Right));
        var y1 = (int)Math.Ceiling(Math.Clamp(bottom, _clip.Top, _clip.Bottom));
        return new PixelRect(x0, y0, x1 - x0, y1 - y0);
    }

    private static byte Mix(byte under, byte over, double alpha) => (byte)Math.Round(under + (over - under) * alpha);

    private static double Square(double value) => value * value;
}
