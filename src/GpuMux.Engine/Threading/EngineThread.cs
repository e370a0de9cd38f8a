using System.Collections.Concurrent;
using System.Diagnostics;
using Microsoft.Extensions.Logging;

namespace GpuMux.Engine.Threading;

/// <summary>
/// The one thread that owns the GPU context and makes every GPU call. Other threads post work to
/// it and never wait on it. Between work items it polls for completed steps; while steps are on
/// the device it spins briefly, then sleeps at most a millisecond, so completions are seen
/// promptly without burning a core; with nothing on the device it sleeps until work arrives.
/// </summary>
internal sealed class EngineThread
{
    // Work items taken per turn before completions are polled again.
    private const int Batch = 64;

    // Long enough to catch a short step's completion without a trip through the OS scheduler.
    private static readonly long SpinTicks = Stopwatch.Frequency / 20_000;
    private static readonly TimeSpan BusyWait = TimeSpan.FromMilliseconds(1);

    private readonly ConcurrentQueue<IEngineWork> _queue = new();

    // Never disposed: a post may race the thread's end, and an event whose wait handle was never
    // asked for holds nothing that needs releasing.
    private readonly ManualResetEventSlim _signal = new(initialState: false);
    private readonly TaskCompletionSource<EngineRuntime> _started = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private readonly TaskCompletionSource _stopped = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private readonly Func<EngineRuntime> _start;
    private readonly ILogger _logger;
    private readonly Thread _thread;
    private EngineRuntime? _runtime;
    private volatile bool _exited;
    private int _stopRequested;

    public EngineThread(Func<EngineRuntime> start, int ordinal, ILogger logger)
    {
        _start = start;
        _logger = logger;
        _thread = new Thread(Run) { IsBackground = true, Name = $"gpumux-engine{ordinal}" };
    }

    /// <summary>True once the thread has stopped: nothing posted runs any more.</summary>
    public bool HasExited => _exited;

    public Task StartAsync()
    {
        _thread.Start();
        return _started.Task;
    }

    public void Post(IEngineWork work)
    {
        _queue.Enqueue(work);
        _signal.Set();
        if (_exited)
        {
            AbandonQueued();
        }
    }

    public Task<T> Invoke<T>(Func<EngineRuntime, T> body, CancellationToken cancellationToken)
    {
        var request = new EngineRequest<T>(body, cancellationToken);
        Post(request);
        return request.Task;
    }

    /// <summary>
    /// Stops the engine: work already queued runs (steps fail with <see cref="EngineError.ShuttingDown"/>),
    /// steps on the device finish, everything is released, and the thread ends.
    /// </summary>
    public Task StopAsync()
    {
        if (Interlocked.Exchange(ref _stopRequested, 1) == 0)
        {
            _started.Task.ContinueWith(
                static (started, state) =>
                {
                    var thread = (EngineThread)state!;
                    if (started.IsCompletedSuccessfully)
                    {
                        started.Result.RequestShutdown();
                        thread.Post(new Drain());
                    }
                },
                this,
                CancellationToken.None,
                TaskContinuationOptions.ExecuteSynchronously,
                TaskScheduler.Default);
        }
        return _stopped.Task;
    }

    private void Run()
    {
        try
        {
            _runtime = _start();
        }
        catch (Exception e)
        {
            _exited = true;
            _stopped.TrySetResult();
            _started.TrySetException(e);
            return;
        }
        _started.TrySetResult(_runtime);
        try
        {
            // Work posted while draining still runs, so that steps submitted late fail through their sinks.
            while (!(_runtime.IsDrained && _queue.IsEmpty))
            {
                RunQueued(_runtime);
                _runtime.Poll();
                if (!_runtime.IsDrained)
                {
                    WaitForWork(_runtime);
                }
            }
        }
        catch (Exception e)
        {
            EngineLog.ThreadFailed(_logger, e);
        }
        finally
        {
            try
            {
                _runtime.ReleaseEverything();
            }
            catch (Exception e)
            {
                EngineLog.ThreadFailed(_logger, e);
            }
            _exited = true;
            AbandonQueued();
            EngineLog.Stopped(_logger);
            _stopped.TrySetResult();
        }
    }

    private void RunQueued(EngineRuntime runtime)
    {
        for (var taken = 0; taken < Batch && _queue.TryDequeue(out var work); taken++)
        {
            try
            {
                work.Execute(runtime);
            }
            catch (Exception e)
            {
                EngineLog.WorkFailed(_logger, e);
            }
        }
    }

    private void WaitForWork(EngineRuntime runtime)
    {
        if (!_queue.IsEmpty)
        {
            return;
        }
        if (runtime.HasStepsInFlight)
        {
            var deadline = Stopwatch.GetTimestamp() + SpinTicks;
            var spinner = default(SpinWait);
            while (Stopwatch.GetTimestamp() < deadline)
            {
                if (!_queue.IsEmpty || runtime.Poll() > 0)
                {
                    return;
                }
                spinner.SpinOnce(sleep1Threshold: -1);
            }
        }
        // Reset before the last look at the queue: a Post after that look sets the signal again.
        _signal.Reset();
        if (!_queue.IsEmpty)
        {
            return;
        }
        if (runtime.NeedsPolling)
        {
            _signal.Wait(BusyWait);
        }
        else
        {
            _signal.Wait();
        }
    }

    private void AbandonQueued()
    {
        while (_queue.TryDequeue(out var work))
        {
            work.Abandon();
        }
    }
}
