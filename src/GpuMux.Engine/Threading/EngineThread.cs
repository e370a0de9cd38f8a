using System.Collections.Concurrent;
using GpuMux.Gpu;
using Microsoft.Extensions.Logging;

namespace GpuMux.Engine.Threading;

/// <summary>
/// The one thread that owns the GPU context and makes every GPU call. Other threads post work to
/// it and never wait on it. Between work items it sleeps on one <see cref="CompletionSignal"/>,
/// which a post sets, and so does a host function queued behind every piece of device work it
/// watches (a step's end, a swap-in's, a deferred release's fence): it wakes for a completion
/// without polling for it, and burns nothing while idle. Only what no completion signals bounds
/// the sleep (<see cref="EngineRuntime.BeginWait"/>).
/// </summary>
internal sealed class EngineThread
{
    // Work items taken per turn before completions are looked at again.
    private const int Batch = 64;

    private readonly ConcurrentQueue<IEngineWork> _queue = new();
    private readonly CompletionSignal _signal = new();
    private readonly TaskCompletionSource<EngineRuntime> _started = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private readonly TaskCompletionSource _stopped = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private readonly Func<CompletionSignal, EngineRuntime> _start;
    private readonly ILogger _logger;
    private readonly Thread _thread;
    private EngineRuntime? _runtime;
    private volatile bool _exited;
    private int _stopRequested;

    public EngineThread(Func<CompletionSignal, EngineRuntime> start, int ordinal, ILogger logger)
    {
        _start = start;
        _logger = logger;
        _thread = new Thread(Run) { IsBackground = true, Name = $"gpumux-engine{ordinal}" };
    }

    /// <summary>True once the thread has stopped: nothing posted runs any more.</summary>
    public bool HasExited => _exited;

    /// <summary>Times the thread has woken from its sleep: what it costs while idle or waiting for the device.</summary>
    public long Wakeups => _signal.Wakeups;

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
            _runtime = _start(_signal);
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
                // Cleared before the queue and the device are looked at: a post or a completion
                // after the look sets it again, and the sleep below returns at once.
                _signal.Reset();
                RunQueued(_runtime);
                _runtime.Poll();
                if (!_runtime.IsDrained && _queue.IsEmpty)
                {
                    _signal.Wait(_runtime.BeginWait());
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
                // Every context is gone, and with it every host function that could find the signal.
                _signal.Dispose();
            }
            catch (Exception e)
            {
                // A context may be left, so the signal's handle stays for its host functions.
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

    private void AbandonQueued()
    {
        while (_queue.TryDequeue(out var work))
        {
            work.Abandon();
        }
    }
}
