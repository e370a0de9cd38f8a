using System.Net;
using System.Text;

namespace GpuMux.Daemon.Configuration;

/// <summary>
/// Where the daemon's metrics go; both off by default. <see cref="Prometheus"/> serves the
/// Prometheus text format at <c>/metrics</c> on a Unix socket (<c>unix:/path</c>) or a loopback
/// port (<c>127.0.0.1:9464</c>, <c>[::1]:9464</c>, <c>localhost:9464</c>); <see cref="Otlp"/>
/// pushes them to an OpenTelemetry collector (<c>http://127.0.0.1:4317</c>).
/// </summary>
internal sealed class MetricsOptions : IDaemonSettings
{
    private const string UnixPrefix = "unix:";

    // sun_path holds 108 bytes, the terminating NUL included.
    private const int MaxPathBytes = 107;

    public static string SectionName => "Metrics";

    public string Prometheus { get; set; } = "";

    public string Otlp { get; set; } = "";

    /// <summary>The Unix socket <see cref="Prometheus"/> names, or null when it names a port or nothing.</summary>
    public string? PrometheusSocketPath => Prometheus.StartsWith(UnixPrefix, StringComparison.Ordinal) ? Prometheus[UnixPrefix.Length..] : null;

    /// <summary>True when the metrics need the network: a loopback port, or an OTLP collector.</summary>
    public bool UsesNetwork => Otlp.Length > 0 || (Prometheus.Length > 0 && PrometheusSocketPath is null);

    /// <summary>The loopback address and port <see cref="Prometheus"/> names; null when it names a Unix socket, nothing, or something invalid.</summary>
    public IPEndPoint? PrometheusPort()
    {
        if (Prometheus.Length == 0 || PrometheusSocketPath is not null)
        {
            return null;
        }
        var separator = Prometheus.LastIndexOf(':');
        if (separator <= 0
            || !int.TryParse(Prometheus.AsSpan(separator + 1), System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out var port)
            || port is < 1 or > IPEndPoint.MaxPort)
        {
            return null;
        }
        var host = Prometheus[..separator];
        var address = host == "localhost" ? IPAddress.Loopback
            : IPAddress.TryParse(host.Trim('[', ']'), out var parsed) && (host.Contains(':') == host.StartsWith('[')) ? parsed
            : null;
        return address is not null && IPAddress.IsLoopback(address) ? new IPEndPoint(address, port) : null;
    }

    public void Validate(SettingErrors errors)
    {
        if (PrometheusSocketPath is { } path)
        {
            var bytes = Encoding.UTF8.GetByteCount(path);
            if (!System.IO.Path.IsPathRooted(path) || bytes > MaxPathBytes)
            {
                errors.Add(nameof(Prometheus), $"is '{Prometheus}'; a Unix socket must be an absolute path of at most {MaxPathBytes} bytes, such as unix:/run/gpumuxd/metrics.sock.");
            }
        }
        else if (Prometheus.Length > 0 && PrometheusPort() is null)
        {
            errors.Add(nameof(Prometheus), $"is '{Prometheus}'; it must be empty (off), unix:/path, or a loopback address and a port from 1 to 65535, such as 127.0.0.1:9464, [::1]:9464 or localhost:9464.");
        }
        if (Otlp.Length > 0
            && !(Uri.TryCreate(Otlp, UriKind.Absolute, out var endpoint) && endpoint.Scheme is "http" or "https" && endpoint.Host.Length > 0))
        {
            errors.Add(nameof(Otlp), $"is '{Otlp}'; it must be empty (off) or an http:// or https:// URL of an OTLP collector, such as http://127.0.0.1:4317.");
        }
    }
}
