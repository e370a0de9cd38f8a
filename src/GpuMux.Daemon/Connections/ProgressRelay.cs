namespace GpuMux.Daemon.Connections;

/// <summary>
/// Keeps the latest progress a background operation reported, for one reader that sends it on at
/// its own pace: reports that arrive while a send is under way collapse into the newest.
/// </summary>
internal sealed class ProgressRelay<T> : IProgress<T> where T : struct
{
    private readonly Lock _gate = new();
    private TaskCompletionSource _reported = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private T? _latest;

    public Task Reported
    {
        get
        {
            lock (_gate)
            {
                return _reported.Task;
            }
        }
    }

    public void Report(T value)
    {
        TaskCompletionSource reported;
        lock (_gate)
        {
            _latest = value;
            reported = _reported;
        }

        reported.TrySetResult();
    }

    public bool TryTake(out T value)
    {
        lock (_gate)
        {
            value = _latest.GetValueOrDefault();
            var had = _latest.HasValue;
            _latest = null;
            if (_reported.Task.IsCompleted)
            {
                _reported = new(TaskCreationOptions.RunContinuationsAsynchronously);
            }

            return had;
        }
    }
}
