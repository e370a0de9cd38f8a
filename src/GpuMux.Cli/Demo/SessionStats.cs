using System.Diagnostics;
using GpuMux.Client;

namespace GpuMux.Cli.Demo;

/// <summary>One demo session's progress, written by its runner and read by the view from another thread.</summary>
internal sealed class SessionStats(string workload, int totalSteps)
{
    private readonly Lock _lock = new();
    private readonly TimeSpan[] _roundTrips = new TimeSpan[totalSteps];
    private int _completed;
    private int _verified;
    private int _mismatches;
    private int _errors;
    private TimeSpan _gpuTime;
    private string? _lastError;
    private long _startedAt;
    private long _endedAt;

    public string Workload => workload;

    public void Start()
    {
        lock (_lock)
        {
            _startedAt = Stopwatch.GetTimestamp();
        }
    }

    public void RecordStep(StepResult result, bool verified)
    {
        lock (_lock)
        {
            _roundTrips[_completed++] = result.RoundTrip;
            _gpuTime += result.GpuTime;
            if (verified)
            {
                _verified++;
            }
            else
            {
                _mismatches++;
            }
        }
    }

    /// <summary>A step failed, or the session could not go on.</summary>
    public void RecordError(Exception error)
    {
        lock (_lock)
        {
            _errors++;
            _lastError = error.Message;
        }
    }

    public void Finish()
    {
        lock (_lock)
        {
            _endedAt = Stopwatch.GetTimestamp();
        }
    }

    public SessionSnapshot Snapshot()
    {
        lock (_lock)
        {
            var elapsed = _startedAt == 0 ? TimeSpan.Zero : Stopwatch.GetElapsedTime(_startedAt, _endedAt != 0 ? _endedAt : Stopwatch.GetTimestamp());
            var roundTrips = _roundTrips.AsSpan(0, _completed).ToArray();
            Array.Sort(roundTrips);
            return new SessionSnapshot(
                workload,
                _completed + _errors,
                totalSteps,
                elapsed > TimeSpan.Zero ? _completed / elapsed.TotalSeconds : 0,
                _completed > 0 ? roundTrips.Aggregate(TimeSpan.Zero, (sum, t) => sum + t) / _completed : TimeSpan.Zero,
                _completed > 0 ? roundTrips[Math.Min(_completed - 1, (int)Math.Ceiling(0.99 * _completed) - 1)] : TimeSpan.Zero,
                _completed > 0 ? _gpuTime / _completed : TimeSpan.Zero,
                _verified,
                _mismatches,
                _errors,
                _lastError,
                _endedAt != 0);
        }
    }
}

/// <param name="Done">Steps that completed or failed.</param>
/// <param name="P99RoundTrip">The round trip that 99 % of the steps beat or matched (nearest rank).</param>
internal sealed record SessionSnapshot(
    string Workload,
    int Done,
    int Total,
    double StepsPerSecond,
    TimeSpan MeanRoundTrip,
    TimeSpan P99RoundTrip,
    TimeSpan MeanGpuTime,
    int Verified,
    int Mismatches,
    int Errors,
    string? LastError,
    bool Finished);
