using System.Diagnostics;
using System.Diagnostics.Metrics;
using GpuMux.Gpu;

namespace GpuMux.Engine.Metrics;

/// <summary>
/// The engine's instruments, recorded where the engine already accounts: steps as they are
/// delivered, device time as the ledger charges it, swap-ins as they land, sessions, lease
/// expiries, faults and recoveries. Every measurement carries the device's labels (see
/// <see cref="GpuLabels"/>). Tag values are strings made once here, so recording on the engine
/// thread allocates nothing, and costs next to nothing while nobody listens.
/// </summary>
internal sealed class EngineMetrics
{
    private static readonly InstrumentAdvice<double> StepSeconds = new()
    {
        HistogramBucketBoundaries = [0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60],
    };

    private static readonly InstrumentAdvice<double> SwapSeconds = new()
    {
        HistogramBucketBoundaries = [0.001, 0.005, 0.01, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30],
    };

    private readonly KeyValuePair<string, object?>[] _device;
    private readonly string[] _classes;
    private readonly string[] _outcomes;
    private readonly Counter<long> _steps;
    private readonly Histogram<double> _queueDelay;
    private readonly Histogram<double> _deviceTime;
    private readonly Counter<double> _busyTime;
    private readonly Histogram<double> _swapDuration;
    private readonly Counter<long> _swapBytes;
    private readonly Counter<long> _sessionsOpened;
    private readonly Counter<long> _leaseExpiries;
    private readonly Counter<long> _faults;
    private readonly Counter<long> _recoveries;
    private readonly Counter<long> _spillBytes;
    private readonly Counter<long> _restoreBytes;
    private readonly UpDownCounter<long> _spilledBytes;

    public EngineMetrics(Meter meter, GpuDeviceInfo device, IReadOnlyList<string> classNames)
    {
        _device = GpuLabels.Of(device);
        _classes = [.. classNames];
        _outcomes = [.. Enum.GetValues<EngineError>().Select(OutcomeName)];
        _steps = meter.CreateCounter<long>("gpumux.steps", "{step}", "Steps delivered, by class and outcome (ok, or the error the client was told, in snake case).");
        _queueDelay = meter.CreateHistogram("gpumux.step.queue_delay", "s", "Time from a step's submission to its start on the device, for steps that ran.", tags: null, StepSeconds);
        _deviceTime = meter.CreateHistogram("gpumux.step.device_time", "s", "Time a step spent on the device, from its start to its end event.", tags: null, StepSeconds);
        _busyTime = meter.CreateCounter<double>("gpumux.gpu.busy_time", "s", "Device time charged to steps, overlap counted once: its rate is the device's busy share, by class.");
        _swapDuration = meter.CreateHistogram("gpumux.swap.duration", "s", "Swap-ins of a model's weights that landed, from the first copy's start to the last one's end.", tags: null, SwapSeconds);
        _swapBytes = meter.CreateCounter<long>("gpumux.swap.bytes", "By", "Bytes of model weights copied to the device by swap-ins that landed; over the duration's sum, the swap bandwidth.");
        _sessionsOpened = meter.CreateCounter<long>("gpumux.sessions.opened", "{session}", "Sessions opened.");
        _leaseExpiries = meter.CreateCounter<long>("gpumux.lease.expiries", "{lease}", "Leases that ran out of device time or duration.");
        _faults = meter.CreateCounter<long>("gpumux.device.faults", "{fault}", "Faults that reset the device, by the status that surfaced (a sticky error, or launch_timeout for a step past its time limit).");
        _recoveries = meter.CreateCounter<long>("gpumux.device.recoveries", "{recovery}", "Rebuilds after a fault, by outcome: recovered, or lost when the device could not be set up again.");
        _spillBytes = meter.CreateCounter<long>("gpumux.buffer.spill.bytes", "By", "Bytes of spillable buffers copied to pinned host memory to make room on the device.");
        _restoreBytes = meter.CreateCounter<long>("gpumux.buffer.restore.bytes", "By", "Bytes of spilled buffers copied back to the device before a step that names them.");
        _spilledBytes = meter.CreateUpDownCounter<long>("gpumux.buffer.spilled.bytes", "By", "Pinned host bytes that spilled buffers hold now.");
    }

    public void StepDelivered(int classIndex, EngineError status, long queuedAtNs, long startedAtNs, long endedAtNs)
    {
        var tags = DeviceTags();
        tags.Add("class", ClassName(classIndex));
        tags.Add("outcome", _outcomes[(int)status]);
        _steps.Add(1, in tags);
        if (startedAtNs <= 0)
        {
            return;
        }
        tags = DeviceTags();
        tags.Add("class", ClassName(classIndex));
        _queueDelay.Record(Math.Max(0, startedAtNs - queuedAtNs) / 1e9, in tags);
        _deviceTime.Record(Math.Max(0, endedAtNs - startedAtNs) / 1e9, in tags);
    }

    public void DeviceTimeCharged(int classIndex, long chargedNs)
    {
        if (chargedNs <= 0)
        {
            return;
        }
        var tags = DeviceTags();
        tags.Add("class", ClassName(classIndex));
        _busyTime.Add(chargedNs / 1e9, in tags);
    }

    public void SwapLanded(ulong bytes, double seconds)
    {
        var tags = DeviceTags();
        _swapDuration.Record(seconds, in tags);
        _swapBytes.Add((long)bytes, in tags);
    }

    /// <summary>A spillable buffer's bytes copied out to the host (a spill) or back (a restore).</summary>
    public void BufferCopied(bool restore, ulong bytes)
    {
        var tags = DeviceTags();
        (restore ? _restoreBytes : _spillBytes).Add((long)bytes, in tags);
    }

    public void SpilledBytesChanged(long delta)
    {
        var tags = DeviceTags();
        _spilledBytes.Add(delta, in tags);
    }

    public void SessionOpened()
    {
        var tags = DeviceTags();
        _sessionsOpened.Add(1, in tags);
    }

    public void LeaseExpired()
    {
        var tags = DeviceTags();
        _leaseExpiries.Add(1, in tags);
    }

    public void DeviceFaulted(GpuStatus status)
    {
        var tags = DeviceTags();
        tags.Add("status", SnakeCase(status.ToString()));
        _faults.Add(1, in tags);
    }

    public void Rebuilt(bool lost)
    {
        var tags = DeviceTags();
        tags.Add("outcome", lost ? "lost" : "recovered");
        _recoveries.Add(1, in tags);
    }

    /// <summary><c>DeviceReset</c> as <c>device_reset</c>: the spelling of label values beside DCGM's and the exporters' own.</summary>
    internal static string SnakeCase(string name)
    {
        var builder = new System.Text.StringBuilder(name.Length + 4);
        for (var i = 0; i < name.Length; i++)
        {
            if (char.IsUpper(name[i]) && i > 0)
            {
                builder.Append('_');
            }
            builder.Append(char.ToLowerInvariant(name[i]));
        }
        return builder.ToString();
    }

    private static string OutcomeName(EngineError error) => error == EngineError.None ? "ok" : SnakeCase(error.ToString());

    private string ClassName(int classIndex) => (uint)classIndex < (uint)_classes.Length ? _classes[classIndex] : "none";

    private TagList DeviceTags() => new(_device);
}
