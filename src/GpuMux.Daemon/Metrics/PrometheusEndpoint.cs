using System.Net.Sockets;
using System.Text;
using GpuMux.Daemon.Configuration;
using GpuMux.Protocol.Transport;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace GpuMux.Daemon.Metrics;

/// <summary>
/// Serves <c>GET /metrics</c> in the Prometheus text format on the Unix socket or loopback port
/// of <c>Metrics:Prometheus</c>, when it is set. Our own few lines of HTTP/1.1 rather than
/// OpenTelemetry's Prometheus exporter: that one is a prerelease only, and its HttpListener
/// cannot listen on a Unix socket. Each request is answered and the connection closed; a client
/// that has not sent its request within a few seconds is dropped, and only a few are served at once.
/// </summary>
internal sealed class PrometheusEndpoint(
    IOptions<MetricsOptions> options,
    DaemonMeter meter,
    EngineGauges gauges,
    ILogger<PrometheusEndpoint> logger) : IHostedService, IAsyncDisposable
{
    private const int MaxRequestBytes = 8192;
    private const int MaxConcurrentScrapes = 4;
    private static readonly TimeSpan RequestTimeout = TimeSpan.FromSeconds(5);

    // Owner only: the series name tenants' uids and their usage, which the operator reports show
    // others only as totals. A loopback port is open to every local user; see docs/configuration.md.
    private const UnixFileMode SocketMode = UnixFileMode.UserRead | UnixFileMode.UserWrite;

    private readonly CancellationTokenSource _stopping = new();
    private readonly SemaphoreSlim _scrapes = new(MaxConcurrentScrapes);
    private MetricsAggregator? _aggregator;
    private UnixSocketListener? _unix;
    private Socket? _tcp;
    private Task _acceptLoop = Task.CompletedTask;

    public Task StartAsync(CancellationToken cancellationToken)
    {
        var settings = options.Value;
        if (settings.Prometheus.Length == 0)
        {
            return Task.CompletedTask;
        }
        _aggregator = new MetricsAggregator(meter.Meter);
        Func<CancellationToken, ValueTask<Socket>> accept;
        if (settings.PrometheusSocketPath is { } path)
        {
            _unix = UnixSocketListener.Bind(path, SocketMode, group: null);
            accept = _unix.AcceptSocketAsync;
        }
        else
        {
            var endpoint = settings.PrometheusPort()!;
            _tcp = new Socket(endpoint.AddressFamily, SocketType.Stream, ProtocolType.Tcp);
            _tcp.Bind(endpoint);
            _tcp.Listen(16);
            accept = _tcp.AcceptAsync;
        }
        MetricsLog.Serving(logger, settings.Prometheus);
        _acceptLoop = AcceptLoopAsync(accept);
        return Task.CompletedTask;
    }

    public async Task StopAsync(CancellationToken cancellationToken)
    {
        await _stopping.CancelAsync();
        await DisposeListenersAsync();
        await _acceptLoop.WaitAsync(cancellationToken).ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);
    }

    public async ValueTask DisposeAsync()
    {
        await DisposeListenersAsync();
        _aggregator?.Dispose();
        _stopping.Dispose();
        _scrapes.Dispose();
    }

    private async ValueTask DisposeListenersAsync()
    {
        if (_unix is not null)
        {
            await _unix.DisposeAsync();
        }
        _tcp?.Dispose();
    }

    private async Task AcceptLoopAsync(Func<CancellationToken, ValueTask<Socket>> accept)
    {
        var running = new List<Task>();
        try
        {
            while (!_stopping.IsCancellationRequested)
            {
                await _scrapes.WaitAsync(_stopping.Token);
                Socket client;
                try
                {
                    client = await accept(_stopping.Token);
                }
                catch (SocketException e) when (!_stopping.IsCancellationRequested)
                {
                    _scrapes.Release();
                    MetricsLog.AcceptFailed(logger, e.Message);
                    await Task.Delay(TimeSpan.FromMilliseconds(100), _stopping.Token);
                    continue;
                }
                running.RemoveAll(task => task.IsCompleted);
                running.Add(ServeAsync(client));
            }
        }
        catch (Exception e) when (e is OperationCanceledException or ObjectDisposedException && _stopping.IsCancellationRequested)
        {
        }
        await Task.WhenAll(running);
    }

    private async Task ServeAsync(Socket client)
    {
        try
        {
            using (client)
            using (var timeout = CancellationTokenSource.CreateLinkedTokenSource(_stopping.Token))
            {
                timeout.CancelAfter(RequestTimeout);
                var request = await ReadRequestLineAsync(client, timeout.Token);
                var (status, body, contentType) = request switch
                {
                    null => ("400 Bad Request", "bad request\n", "text/plain; charset=utf-8"),
                    [var method, _, _] when method != "GET" && method != "HEAD" => ("405 Method Not Allowed", "only GET\n", "text/plain; charset=utf-8"),
                    [_, var target, _] when target != "/metrics" && !target.StartsWith("/metrics?", StringComparison.Ordinal) => ("404 Not Found", "the metrics are at /metrics\n", "text/plain; charset=utf-8"),
                    _ => ("200 OK", await ScrapeAsync(timeout.Token), PrometheusText.ContentType),
                };
                var payload = Encoding.UTF8.GetBytes(body);
                var head = Encoding.ASCII.GetBytes(
                    $"HTTP/1.1 {status}\r\nContent-Type: {contentType}\r\nContent-Length: {payload.Length}\r\nConnection: close\r\n\r\n");
                await client.SendAsync(head, timeout.Token);
                if (request is not [ "HEAD", _, _ ])
                {
                    await client.SendAsync(payload, timeout.Token);
                }
                client.Shutdown(SocketShutdown.Send);
            }
        }
        catch (Exception e) when (e is OperationCanceledException or SocketException or ObjectDisposedException)
        {
            // A scraper that went away or never asked: nothing to tell it.
        }
        catch (Exception e)
        {
            MetricsLog.ScrapeFailed(logger, e);
        }
        finally
        {
            _scrapes.Release();
        }
    }

    private async Task<string> ScrapeAsync(CancellationToken cancellationToken)
    {
        try
        {
            await gauges.RefreshAsync(cancellationToken);
        }
        catch (Exception e) when (e is InvalidOperationException or ObjectDisposedException or Engine.EngineException)
        {
            // The engine is not running: the counters are still worth reporting, the gauges are left out.
        }
        return _aggregator!.Collect(PrometheusText.Write);
    }

    /// <summary>The request line's method, target and version, once the whole head has arrived; null if it is not HTTP/1.x or too long.</summary>
    private static async Task<string[]?> ReadRequestLineAsync(Socket client, CancellationToken cancellationToken)
    {
        var buffer = new byte[MaxRequestBytes];
        var length = 0;
        while (length < buffer.Length)
        {
            var read = await client.ReceiveAsync(buffer.AsMemory(length), cancellationToken);
            if (read == 0)
            {
                return null;
            }
            length += read;
            var head = buffer.AsSpan(0, length);
            if (head.IndexOf("\r\n\r\n"u8) >= 0 || head.IndexOf("\n\n"u8) >= 0)
            {
                var line = Encoding.ASCII.GetString(head[..head.IndexOf((byte)'\n')]).TrimEnd('\r');
                var parts = line.Split(' ');
                return parts.Length == 3 && parts[2].StartsWith("HTTP/1.", StringComparison.Ordinal) ? parts : null;
            }
        }
        return null;
    }
}

internal static partial class MetricsLog
{
    [LoggerMessage(EventId = 1200, Level = LogLevel.Information, Message = "Serving Prometheus metrics at {Where}, path /metrics")]
    public static partial void Serving(ILogger logger, string where);

    [LoggerMessage(EventId = 1201, Level = LogLevel.Warning, Message = "The metrics endpoint could not accept a connection: {Reason}")]
    public static partial void AcceptFailed(ILogger logger, string reason);

    [LoggerMessage(EventId = 1202, Level = LogLevel.Error, Message = "A metrics scrape failed")]
    public static partial void ScrapeFailed(ILogger logger, Exception exception);

    [LoggerMessage(EventId = 1203, Level = LogLevel.Information, Message = "Exporting metrics over OTLP to {Endpoint}")]
    public static partial void ExportingOtlp(ILogger logger, string endpoint);
}
