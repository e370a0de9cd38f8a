using System.Diagnostics;
using System.Net.Sockets;
using static Tmds.Linux.LibC;

namespace GpuMux.Robustness.Daemon;

/// <summary>One run of gpumuxd as a child process, from its start to its exit.</summary>
internal sealed class DaemonProcess : IDisposable
{
    private static readonly TimeSpan StartBound = TimeSpan.FromSeconds(60);

    private readonly Process _process;
    private readonly Stopwatch _sinceSignal = new();
    private int _stopping;

    private DaemonProcess(Process process, DaemonLog log)
    {
        _process = process;
        Log = log;
        Pid = process.Id;
        Exited = process.WaitForExitAsync();
    }

    public int Pid { get; }

    public DaemonLog Log { get; }

    /// <summary>Completes when the process has exited, for whatever reason.</summary>
    public Task Exited { get; }

    public bool HasExited => Exited.IsCompleted;

    /// <summary>Whether this side asked it to stop (SIGTERM or a kill), so that its exit is no death.</summary>
    public bool StopRequested => Volatile.Read(ref _stopping) != 0;

    /// <summary>How it ended: its exit status and, for a signal, which.</summary>
    public string ExitDescription
    {
        get
        {
            if (!HasExited)
            {
                return "still running";
            }

            var status = _process.ExitCode;
            // .NET reports a process ended by a signal as 128 plus the signal's number, as shells do.
            return status > 128 && status < 128 + 65 ? $"killed by signal {status - 128} ({SignalName(status - 128)})" : $"exit status {status}";
        }
    }

    public int ExitCode => _process.ExitCode;

    /// <summary>Starts gpumuxd and waits until its socket accepts a connection.</summary>
    public static async Task<DaemonProcess> StartAsync(DaemonSetup setup, CancellationToken cancellationToken)
    {
        if (!File.Exists(setup.DaemonDll))
        {
            throw new FileNotFoundException($"no gpumuxd.dll at {setup.DaemonDll}; build src/GpuMux.Daemon or name it", setup.DaemonDll);
        }

        Directory.CreateDirectory(setup.Directory);
        if (!File.Exists(setup.ConfigurationFile))
        {
            File.WriteAllText(setup.ConfigurationFile, "{}");
        }

        var start = new ProcessStartInfo(DaemonSetup.DotnetHost)
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
            WorkingDirectory = setup.Directory,
        };
        foreach (var argument in setup.Arguments)
        {
            start.ArgumentList.Add(argument);
        }

        var log = new DaemonLog();
        var process = new Process { StartInfo = start };
        process.OutputDataReceived += (_, line) => log.Append(line.Data);
        process.ErrorDataReceived += (_, line) => log.Append(line.Data);
        process.Start();
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        var daemon = new DaemonProcess(process, log);
        try
        {
            await daemon.WaitUntilListeningAsync(setup.SocketPath, cancellationToken);
            return daemon;
        }
        catch
        {
            daemon.Kill();
            daemon.Dispose();
            throw;
        }
    }

    public ResourceSample? Sample() => HasExited ? null : ResourceSample.Of(Pid);

    /// <summary>SIGHUP: the daemon reads its configuration again.</summary>
    public void Hangup() => Signal(SIGHUP);

    /// <summary>
    /// SIGTERM, and the wait for the exit: true when it came within <paramref name="bound"/>;
    /// otherwise the process is killed, so that nothing outlives the run.
    /// </summary>
    public async Task<(bool Prompt, TimeSpan Elapsed)> TerminateAsync(TimeSpan bound)
    {
        Interlocked.Exchange(ref _stopping, 1);
        _sinceSignal.Restart();
        Signal(SIGTERM);
        var prompt = await Task.WhenAny(Exited, Task.Delay(bound)) == Exited;
        var elapsed = _sinceSignal.Elapsed;
        if (!prompt)
        {
            Kill();
            await Exited;
        }

        return (prompt, elapsed);
    }

    /// <summary>SIGKILL, for a daemon that has to go whatever state it is in.</summary>
    public void Kill()
    {
        Interlocked.Exchange(ref _stopping, 1);
        if (!HasExited)
        {
            try
            {
                _process.Kill();
            }
            catch (InvalidOperationException)
            {
                // It exited between the check and the kill.
            }
        }
    }

    public void Dispose()
    {
        Kill();
        _process.Dispose();
    }

    private void Signal(int signal)
    {
        if (!HasExited && kill(Pid, signal) != 0 && errno != ESRCH)
        {
            throw new InvalidOperationException($"kill({Pid}, {SignalName(signal)}) failed with errno {errno}");
        }
    }

    private async Task WaitUntilListeningAsync(string socketPath, CancellationToken cancellationToken)
    {
        var waited = Stopwatch.StartNew();
        while (true)
        {
            if (HasExited)
            {
                throw new InvalidOperationException($"gpumuxd ended before it listened ({ExitDescription}):\n{Log.Tail(15)}");
            }

            if (waited.Elapsed > StartBound)
            {
                throw new TimeoutException($"gpumuxd did not listen on {socketPath} within {StartBound.TotalSeconds} s:\n{Log.Tail(15)}");
            }

            if (File.Exists(socketPath))
            {
                using var probe = new Socket(AddressFamily.Unix, SocketType.Stream, ProtocolType.Unspecified);
                try
                {
                    await probe.ConnectAsync(new UnixDomainSocketEndPoint(socketPath), cancellationToken);
                    return;
                }
                catch (SocketException)
                {
                    // A stale socket of an earlier run, not yet replaced.
                }
            }

            await Task.Delay(20, cancellationToken);
        }
    }

    private static string SignalName(int signal) => signal switch
    {
        1 => "SIGHUP",
        2 => "SIGINT",
        6 => "SIGABRT",
        7 => "SIGBUS",
        9 => "SIGKILL",
        11 => "SIGSEGV",
        15 => "SIGTERM",
        _ => $"signal {signal}",
    };
}
