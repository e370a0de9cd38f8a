using System.Globalization;
using System.Text;

namespace GpuMux.Daemon.Metrics;

/// <summary>
/// Writes series in the Prometheus text exposition format (version 0.0.4), naming them as
/// OpenTelemetry's Prometheus exporters do, so that a metric has one name whichever way it is
/// collected: dots become underscores, the unit is a suffix (<c>_seconds</c>, <c>_bytes</c>; none
/// for a count such as <c>{step}</c>), and counters end in <c>_total</c>.
/// </summary>
internal static class PrometheusText
{
    public const string ContentType = "text/plain; version=0.0.4; charset=utf-8";

    public static string Write(IReadOnlyList<MetricSeries> all)
    {
        var text = new StringBuilder();
        foreach (var series in all)
        {
            var cells = series.Cells.ToArray();
            if (cells.Length == 0)
            {
                continue;
            }
            var name = NameOf(series);
            text.Append("# HELP ").Append(name).Append(' ').Append(EscapeHelp(series.Instrument.Description ?? "")).Append('\n');
            text.Append("# TYPE ").Append(name).Append(' ').Append(series.Kind switch
            {
                SeriesKind.Counter => "counter",
                SeriesKind.Histogram => "histogram",
                _ => "gauge",
            }).Append('\n');
            foreach (var (labels, cell) in cells)
            {
                if (series.Kind == SeriesKind.Histogram)
                {
                    WriteHistogram(text, name, labels, cell, series.Bounds);
                }
                else
                {
                    Sample(text, name, labels, null, cell.Value);
                }
            }
        }
        return text.ToString();
    }

    public static string NameOf(MetricSeries series)
    {
        var name = new StringBuilder();
        foreach (var c in series.Instrument.Name)
        {
            name.Append(char.IsAsciiLetterOrDigit(c) || c is '_' or ':' ? c : '_');
        }
        var unit = series.Instrument.Unit switch
        {
            "s" => "_seconds",
            "By" => "_bytes",
            "1" => "_ratio",
            _ => "",
        };
        if (unit.Length > 0 && !name.ToString().EndsWith(unit, StringComparison.Ordinal))
        {
            name.Append(unit);
        }
        if (series.Kind == SeriesKind.Counter)
        {
            name.Append("_total");
        }
        return name.ToString();
    }

    private static void WriteHistogram(StringBuilder text, string name, LabelSet labels, MetricSeries.Cell cell, IReadOnlyList<double> bounds)
    {
        long cumulative = 0;
        for (var i = 0; i < bounds.Count; i++)
        {
            cumulative += cell.BucketAt(i);
            Sample(text, name + "_bucket", labels, Number(bounds[i]), cumulative);
        }
        cumulative += cell.BucketAt(bounds.Count);
        Sample(text, name + "_bucket", labels, "+Inf", cumulative);
        Sample(text, name + "_sum", labels, null, cell.Value);
        Sample(text, name + "_count", labels, null, cumulative);
    }

    private static void Sample(StringBuilder text, string name, LabelSet labels, string? le, double value)
    {
        text.Append(name);
        if (labels.Count > 0 || le is not null)
        {
            text.Append('{');
            for (var i = 0; i < labels.Count; i++)
            {
                if (i > 0)
                {
                    text.Append(',');
                }
                text.Append(LabelName(labels.NameAt(i))).Append("=\"").Append(EscapeValue(labels.ValueAt(i))).Append('"');
            }
            if (le is not null)
            {
                text.Append(labels.Count > 0 ? "," : "").Append("le=\"").Append(le).Append('"');
            }
            text.Append('}');
        }
        text.Append(' ').Append(Number(value)).Append('\n');
    }

    private static string Number(double value) =>
        double.IsPositiveInfinity(value) ? "+Inf"
        : double.IsNegativeInfinity(value) ? "-Inf"
        : double.IsNaN(value) ? "NaN"
        : value.ToString("R", CultureInfo.InvariantCulture);

    private static string LabelName(string key)
    {
        var name = new StringBuilder(key.Length);
        foreach (var c in key)
        {
            name.Append(char.IsAsciiLetterOrDigit(c) || c == '_' ? c : '_');
        }
        return name.ToString();
    }

    private static string EscapeValue(string value) => value.Replace("\\", "\\\\", StringComparison.Ordinal).Replace("\"", "\\\"", StringComparison.Ordinal).Replace("\n", "\\n", StringComparison.Ordinal);

    private static string EscapeHelp(string help) => help.Replace("\\", "\\\\", StringComparison.Ordinal).Replace("\n", "\\n", StringComparison.Ordinal);
}
