namespace GpuMux.Robustness.Daemon;

/// <summary>
/// The daemon's standard output and error: how many bytes it wrote (a flood of warnings is a
/// finding too) and its last lines, which say why it died when it does.
/// </summary>
internal sealed class DaemonLog
{
    private const int KeptLines = 30;

    // The console formatter's first line of an entry: "warn: GpuMux.Engine.Faults.DeviceRecovery[300]".
    // Event 300 (FaultLog.DeviceFaulted) is logged once per fault that resets the device.
    private const string FaultCategory = ": GpuMux.Engine.Faults.";
    private const string FaultEventId = "[300]";

    private readonly Queue<string> _last = new();
    private long _bytes;
    private long _deviceFaults;

    public long Bytes => Interlocked.Read(ref _bytes);

    /// <summary>Faults that made the daemon reset the device.</summary>
    public long DeviceFaults => Interlocked.Read(ref _deviceFaults);

    public void Append(string? line)
    {
        if (line is null)
        {
            return;
        }

        Interlocked.Add(ref _bytes, System.Text.Encoding.UTF8.GetByteCount(line) + 1);
        if (line.Contains(FaultCategory, StringComparison.Ordinal) && line.EndsWith(FaultEventId, StringComparison.Ordinal))
        {
            Interlocked.Increment(ref _deviceFaults);
        }

        lock (_last)
        {
            _last.Enqueue(line);
            if (_last.Count > KeptLines)
            {
                _last.Dequeue();
            }
        }
    }

    public string Tail(int lines)
    {
        lock (_last)
        {
            return string.Join('\n', _last.Skip(Math.Max(0, _last.Count - lines)));
        }
    }
}
