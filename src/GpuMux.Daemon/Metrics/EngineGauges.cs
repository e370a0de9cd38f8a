using System.Diagnostics.Metrics;
using GpuMux.Daemon.Device;
using GpuMux.Engine;
using GpuMux.Engine.Metrics;
using GpuMux.Engine.Tenants;

namespace GpuMux.Daemon.Metrics;

/// <summary>
/// What the engine holds at the moment of a collection: sessions, the device and pinned pools,
/// steps queued and on the device by class, and each tenant's device time and memory against its
/// limits. Read from one snapshot of the engine's status and tenants per collection, taken on the
/// engine thread like <c>gpumuxctl status</c>'s, so nothing is read across threads.
/// </summary>
internal sealed class EngineGauges
{
    // A collection reads every gauge in turn; one snapshot serves them all.
    private static readonly TimeSpan Freshness = TimeSpan.FromSeconds(1);
    private static readonly TimeSpan ReadTimeout = TimeSpan.FromSeconds(5);

    private readonly EngineService _engine;
    private readonly TimeProvider _time;
    private readonly Lock _gate = new();
    private Snapshot? _snapshot;

    public EngineGauges(DaemonMeter meter, EngineService engine, TimeProvider time)
    {
        _engine = engine;
        _time = time;
        var m = meter.Meter;
        m.CreateObservableGauge("gpumux.sessions", () => Read<long>(s => [Point((long)s.Status.Sessions.Count, s)]), "{session}", "Sessions open now.");
        m.CreateObservableGauge("gpumux.device_pool.usage", () => Read<long>(s => [Point((long)(s.Status.DevicePoolBytes - s.Status.DevicePoolFreeBytes), s)]), "By", "Bytes of the device pool in use: buffers and resident models.");
        m.CreateObservableGauge("gpumux.device_pool.limit", () => Read<long>(s => [Point((long)s.Status.DevicePoolBytes, s)]), "By", "Bytes of device memory the daemon took for its pool at start.");
        m.CreateObservableGauge("gpumux.pinned_pool.usage", () => Read<long>(s => [Point((long)(s.Status.PinnedPoolBytes - s.Status.PinnedPoolFreeBytes), s)]), "By", "Bytes of the pinned host pool holding staged models.");
        m.CreateObservableGauge("gpumux.pinned_pool.limit", () => Read<long>(s => [Point((long)s.Status.PinnedPoolBytes, s)]), "By", "Bytes of the pinned host pool.");
        m.CreateObservableGauge("gpumux.steps.queued", () => Read(s => s.Status.Classes.Select(c => Point(c.StepsQueued, s, ("class", c.Name)))), "{step}", "Steps submitted and waiting for the device, by class.");
        m.CreateObservableGauge("gpumux.steps.on_device", () => Read(s => s.Status.Classes.Select(c => Point(c.StepsOnDevice, s, ("class", c.Name)))), "{step}", "Steps on the device now, by class.");
        m.CreateObservableCounter("gpumux.tenant.gpu_time", () => Read(s => s.Tenants.Select(t => Point(t.Usage.GpuSeconds, s, Uid(t)))), "s", "Device time each tenant's steps took since the daemon started.");
        m.CreateObservableGauge("gpumux.tenant.gpu_time.day", () => Read(s => s.Tenants.Select(t => Point(t.GpuSecondsToday, s, Uid(t)))), "s", "Device time each tenant's steps took over the last 24 hours.");
        m.CreateObservableGauge("gpumux.tenant.gpu_time.day_limit", () => Read(s => s.Tenants.Where(t => t.Limits.GpuSecondsPerDay > 0).Select(t => Point(t.Limits.GpuSecondsPerDay, s, Uid(t)))), "s", "Each limited tenant's device time allowed over 24 hours (Tenants:...:GpuSecondsPerDay); no series for an unlimited one.");
        m.CreateObservableGauge("gpumux.tenant.device_memory.usage", () => Read(s => s.Tenants.Select(t => Point((long)t.DeviceBytes, s, Uid(t)))), "By", "Device bytes each tenant's buffers hold.");
        m.CreateObservableGauge("gpumux.tenant.device_memory.limit", () => Read(s => s.Tenants.Where(t => t.Limits.MaxDeviceBytes > 0).Select(t => Point((long)t.Limits.MaxDeviceBytes, s, Uid(t)))), "By", "Each limited tenant's device bytes allowed (Tenants:...:MaxDeviceBytes); no series for an unlimited one.");
    }

    /// <summary>Takes a fresh snapshot, for a collection about to read the gauges (a Prometheus scrape does this first, so it never waits inside a gauge).</summary>
    public async Task RefreshAsync(CancellationToken cancellationToken)
    {
        var engine = _engine.Engine;
        var status = await engine.GetStatusAsync(cancellationToken);
        var tenants = await engine.GetTenantsAsync(cancellationToken);
        lock (_gate)
        {
            _snapshot = new Snapshot(status, tenants, GpuLabels.Of(status.Device), _time.GetTimestamp());
        }
    }

    private IEnumerable<Measurement<T>> Read<T>(Func<Snapshot, IEnumerable<Measurement<T>>> measure)
        where T : struct
    {
        Snapshot? snapshot;
        lock (_gate)
        {
            snapshot = _snapshot;
        }
        if (snapshot is null || _time.GetElapsedTime(snapshot.TakenAt) > Freshness)
        {
            // An exporter's own collection (OTLP's, on its timer thread): read the engine here.
            try
            {
                using var timeout = new CancellationTokenSource(ReadTimeout);
                RefreshAsync(timeout.Token).GetAwaiter().GetResult();
                lock (_gate)
                {
                    snapshot = _snapshot;
                }
            }
            catch (Exception e) when (e is OperationCanceledException or InvalidOperationException or ObjectDisposedException or EngineException)
            {
                // The engine is not running, or did not answer in time: report what was last read, if anything.
            }
        }
        return snapshot is null ? [] : [.. measure(snapshot)];
    }

    private static (string, string) Uid(TenantStatus tenant) => ("uid", tenant.Uid.ToString(System.Globalization.CultureInfo.InvariantCulture));

    private static Measurement<T> Point<T>(T value, Snapshot snapshot, params (string Key, string Value)[] labels)
        where T : struct
    {
        var tags = new KeyValuePair<string, object?>[snapshot.Device.Length + labels.Length];
        snapshot.Device.CopyTo(tags, 0);
        for (var i = 0; i < labels.Length; i++)
        {
            tags[snapshot.Device.Length + i] = new(labels[i].Key, labels[i].Value);
        }
        return new Measurement<T>(value, tags);
    }

    private sealed record Snapshot(EngineStatus Status, IReadOnlyList<TenantStatus> Tenants, KeyValuePair<string, object?>[] Device, long TakenAt);
}
