namespace GpuMux.Robustness.Daemon;

/// <summary>
/// The daemon's standard output and error: how many bytes it wrote (a flood of warnings is a
/// finding too) and its last lines, which say why it died when it does.
/// </summary>
internal sealed class DaemonLog
{
    private const int KeptLines = 30;

    private readonly Queue<string> _last = new();
    private long _bytes;

    public long Bytes => Interlocked.Read(ref _bytes);

    public void Append(string? line)
    {
        if (line is null)
        {
            return;
        }

        Interlocked.Add(ref _bytes, System.Text.Encoding.UTF8.GetByteCount(line) + 1);
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
