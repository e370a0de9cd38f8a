using System.Globalization;

namespace GpuMux.Bench.Plotting;

/// <summary>The span of one axis and its tick step, a 1, 2 or 5 × 10^k; ends not fixed by the caller are widened to whole steps.</summary>
internal readonly record struct AxisScale(double Min, double Max, double Step)
{
    // Lets a tick that lands on an end by arithmetic (1.0 / 0.2 = 5.000000000000001) still count as inside.
    private const double Tolerance = 1e-9;

    /// <param name="dataMin">The smallest value to show; infinite when there is no data.</param>
    /// <param name="dataMax">The largest value to show; infinite when there is no data.</param>
    public static AxisScale Nice(double dataMin, double dataMax, double? fixedMin, double? fixedMax, int targetTickCount)
    {
        if (fixedMin >= fixedMax)
        {
            throw new InvalidOperationException($"axis minimum {fixedMin} is not below its maximum {fixedMax}");
        }
        var hasData = double.IsFinite(dataMin) && double.IsFinite(dataMax);
        var min = fixedMin ?? (hasData ? dataMin : 0);
        var max = fixedMax ?? (hasData ? dataMax : 1);
        if (max <= min)
        {
            // A single value, or data wholly beyond a fixed end: open the free end by a tenth of the value it starts from.
            var anchor = fixedMax ?? min;
            var pad = anchor == 0 ? 1 : Math.Abs(anchor) / 10;
            (min, max) = fixedMax is null ? (min, min + pad) : (max - pad, max);
        }
        // Two or more ticks keep the step below the span, so at least one tick always falls inside.
        var step = NiceStep((max - min) / Math.Max(2, targetTickCount));
        return new AxisScale(
            fixedMin ?? Math.Floor(min / step + Tolerance) * step,
            fixedMax ?? Math.Ceiling(max / step - Tolerance) * step,
            step);
    }

    public IEnumerable<double> Ticks()
    {
        var first = (long)Math.Ceiling(Min / Step - Tolerance);
        var last = (long)Math.Floor(Max / Step + Tolerance);
        for (var index = first; index <= last; index++)
        {
            // Multiplying a whole index, not accumulating, keeps 0.30000000000000004 and -0 out of the labels.
            yield return index * Step;
        }
    }

    public string Label(double tick)
    {
        if (Step >= 1e6)
        {
            // 2.5e7 reads faster than 25000000, and leaves room between the labels.
            return tick == 0 ? "0" : tick.ToString("0.######e0", CultureInfo.InvariantCulture);
        }
        var decimals = Math.Max(0, -(int)Math.Floor(Math.Log10(Step) + Tolerance));
        return tick.ToString("F" + decimals.ToString(CultureInfo.InvariantCulture), CultureInfo.InvariantCulture);
    }

    /// <summary>Where <paramref name="value"/> falls between <see cref="Min"/> (0) and <see cref="Max"/> (1).</summary>
    public double Fraction(double value) => (value - Min) / (Max - Min);

    private static double NiceStep(double rough)
    {
        var magnitude = Math.Pow(10, Math.Floor(Math.Log10(rough)));
        var leading = rough / magnitude;
        return magnitude * (leading < 1.5 ? 1 : leading < 3 ? 2 : leading < 7 ? 5 : 10);
    }
}
