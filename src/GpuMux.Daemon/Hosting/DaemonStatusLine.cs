namespace GpuMux.Daemon.Hosting;

/// <summary>
/// The one line the daemon shows as its state (in <c>systemctl status</c>, through
/// <see cref="SystemdWatchdog"/>). Any thread may set it.
/// </summary>
internal sealed class DaemonStatusLine
{
    private readonly Lock _lock = new();
    private string _current = "Starting";
    private TaskCompletionSource _changed = new(TaskCreationOptions.RunContinuationsAsynchronously);

    public string Current
    {
        get
        {
            lock (_lock)
            {
                return _current;
            }
        }
    }

    /// <summary>
    /// Completes at the next <see cref="Set"/> that changes the text. Take it before reading
    /// <see cref="Current"/>, so a change in between is not missed.
    /// </summary>
    public Task Changed
    {
        get
        {
            lock (_lock)
            {
                return _changed.Task;
            }
        }
    }

    public void Set(string text)
    {
        // sd_notify separates its assignments with newlines.
        text = text.ReplaceLineEndings(" ");
        TaskCompletionSource changed;
        lock (_lock)
        {
            if (text == _current)
            {
                return;
            }
            _current = text;
            changed = _changed;
            _changed = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        }
        changed.SetResult();
    }
}
