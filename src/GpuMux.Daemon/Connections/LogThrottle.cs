namespace GpuMux.Daemon.Connections;

/// <summary>
/// Holds back a flood of like log lines, per key: the first is logged in full, the ones after it
/// within <see cref="Interval"/> are only counted, and when the interval ends the count is handed
/// to the summary (and a new interval begins, while they keep coming). A key that stays quiet for
/// a whole interval is forgotten, so its next line is logged in full again.
/// </summary>
/// <param name="summarize">Logs that this many lines of the key were held back; called on a timer thread.</param>
internal sealed class LogThrottle<TKey>(TimeProvider time, Action<TKey, int> summarize) : IDisposable
    where TKey : notnull
{
    public static readonly TimeSpan Interval = TimeSpan.FromSeconds(10);

    private readonly Lock _gate = new();
    private readonly Dictionary<TKey, Window> _windows = [];
    private bool _disposed;

    /// <summary>True when this line is to be logged in full; false when it has been counted for the summary instead.</summary>
    public bool ShouldLog(TKey key)
    {
        lock (_gate)
        {
            if (_windows.TryGetValue(key, out var open))
            {
                open.HeldBack++;
                return false;
            }

            if (!_disposed)
            {
                var window = new Window();
                _windows.Add(key, window);
                window.Timer = time.CreateTimer(_ => EndInterval(key), null, Interval, Interval);
            }

            return true;
        }
    }

    /// <summary>Stops the timers, and hands the summary every count still held.</summary>
    public void Dispose()
    {
        KeyValuePair<TKey, Window>[] open;
        lock (_gate)
        {
            _disposed = true;
            open = [.. _windows];
            _windows.Clear();
        }

        foreach (var (key, window) in open)
        {
            window.Timer?.Dispose();
            if (window.HeldBack > 0)
            {
                summarize(key, window.HeldBack);
            }
        }
    }

    private void EndInterval(TKey key)
    {
        int heldBack;
        lock (_gate)
        {
            if (!_windows.TryGetValue(key, out var window))
            {
                return;
            }

            heldBack = window.HeldBack;
            window.HeldBack = 0;
            if (heldBack == 0)
            {
                _windows.Remove(key);
                window.Timer?.Dispose();
                return;
            }
        }

        summarize(key, heldBack);
    }

    private sealed class Window
    {
        public ITimer? Timer;
        public int HeldBack;
    }
}
