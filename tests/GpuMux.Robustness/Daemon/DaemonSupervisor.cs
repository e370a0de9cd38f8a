using GpuMux.Robustness.Counting;

namespace GpuMux.Robustness.Daemon;

/// <summary>
/// Keeps a gpumuxd running through a scenario: when it dies, the death is counted, with its exit
/// status and last log lines, and a new one is started on the same socket, so that the scenario
/// goes on and counts what else breaks. Clients wait for it to be back and connect again.
/// </summary>
internal sealed class DaemonSupervisor : IAsyncDisposable
{
    /// <summary>After this many deaths the daemon is left dead: the scenario has said what it had to.</summary>
    private const int MaxRestarts = 20;

    private readonly DaemonSetup _setup;
    private readonly Counter _deaths;
    private readonly Notes _notes;
    private readonly CancellationTokenSource _closing = new();
    private readonly Task _watching;
    private DaemonProcess _current;
    private long _earlierLogBytes;
    private long _earlierDeviceFaults;

    private DaemonSupervisor(DaemonSetup setup, DaemonProcess first, Counter deaths, Notes notes)
    {
        _setup = setup;
        _current = first;
        _deaths = deaths;
        _notes = notes;
        _watching = Task.Run(WatchAsync);
    }

    public DaemonSetup Setup => _setup;

    public DaemonProcess Current => Volatile.Read(ref _current);

    public string SocketPath => _setup.SocketPath;

    /// <summary>Bytes of log from every run of the daemon in this scenario.</summary>
    public long LogBytes => Interlocked.Read(ref _earlierLogBytes) + Current.Log.Bytes;

    /// <summary>Faults that made a run of the daemon in this scenario reset the device.</summary>
    public long DeviceFaults => Interlocked.Read(ref _earlierDeviceFaults) + Current.Log.DeviceFaults;

    /// <summary>True once the daemon has died more often than it is restarted.</summary>
    public bool GaveUp => _deaths.Value > MaxRestarts;

    public static async Task<DaemonSupervisor> StartAsync(DaemonSetup setup, Counter deaths, Notes notes, CancellationToken cancellationToken)
    {
        var first = await DaemonProcess.StartAsync(setup, cancellationToken);
        return new DaemonSupervisor(setup, first, deaths, notes);
    }

    /// <summary>Waits until a daemon is up (at once, unless it has just died); false when it will not be again.</summary>
    public async Task<bool> WaitUntilUpAsync(CancellationToken cancellationToken)
    {
        while (Current.HasExited)
        {
            if (GaveUp || _closing.IsCancellationRequested || _watching.IsCompleted)
            {
                return false;
            }

            await Task.Delay(20, cancellationToken);
        }

        return true;
    }

    /// <summary>Stops watching: whatever happens to the daemon from now on is the caller's to judge.</summary>
    public async Task DetachAsync()
    {
        await _closing.CancelAsync();
        await _watching;
    }

    public async ValueTask DisposeAsync()
    {
        await DetachAsync();
        Current.Dispose();
        _closing.Dispose();
    }

    private async Task WatchAsync()
    {
        while (true)
        {
            var daemon = Current;
            try
            {
                await daemon.Exited.WaitAsync(_closing.Token);
            }
            catch (OperationCanceledException)
            {
                return;
            }

            if (daemon.StopRequested)
            {
                return;
            }

            _deaths.Add();
            _notes.Add("daemon death", $"{daemon.ExitDescription}; its last lines:\n{daemon.Log.Tail(8)}");
            if (GaveUp)
            {
                return;
            }

            try
            {
                var next = await DaemonProcess.StartAsync(_setup, _closing.Token);
                Interlocked.Add(ref _earlierLogBytes, daemon.Log.Bytes);
                Interlocked.Add(ref _earlierDeviceFaults, daemon.Log.DeviceFaults);
                Volatile.Write(ref _current, next);
                daemon.Dispose();
            }
            catch (OperationCanceledException)
            {
                return;
            }
        }
    }
}
