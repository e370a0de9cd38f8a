namespace GpuMux.Daemon.Hosting;

/// <summary>
/// The one line the daemon shows as its state (in <c>systemctl status</c>, through
/// <see cref="ServiceManagerNotifications"/>): what it is doing, and while it serves, figures on
/// its load that <see cref="DaemonStatusReport"/> keeps current. Any thread may set either.
/// </summary>
internal sealed class DaemonStatusLine
{
    private readonly Lock _lock = new();
    private string _state = "Starting";
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

    /// <summary>Sets what the daemon is doing; the figures of the state before it no longer apply.</summary>
    public void Set(string state) => Update(state, figures: null);

    /// <summary>Sets the figures shown after the state; null shows none.</summary>
    public void SetFigures(string? figures)
    {
        lock (_lock)
        {
            Update(_state, figures);
        }
    }

    private void Update(string state, string? figures)
    {
        // sd_notify separates its assignments with newlines.
        state = state.ReplaceLineEndings(" ");
        figures = figures?.ReplaceLineEndings(" ");
        var text = figures is null ? state : $"{state}; {figures}";
        TaskCompletionSource changed;
        lock (_lock)
        {
            _state = state;
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
