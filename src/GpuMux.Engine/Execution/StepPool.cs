using System.Collections.Concurrent;

namespace GpuMux.Engine.Execution;

/// <summary>Steps for every session to rent, so that a warm engine allocates none per submission.</summary>
internal sealed class StepPool
{
    // Enough for many sessions' full pipelines; a burst beyond it is left to the collector.
    private const int MaxPooled = 4096;

    private readonly ConcurrentQueue<Step> _steps = new();
    private int _pooled;

    public Step Rent(EngineSession owner, int opLimit)
    {
        if (_steps.TryDequeue(out var step))
        {
            Interlocked.Decrement(ref _pooled);
        }
        else
        {
            step = new Step();
        }
        step.Rent(owner, opLimit);
        return step;
    }

    public void Return(Step step)
    {
        step.Recycle();
        if (Interlocked.Increment(ref _pooled) <= MaxPooled)
        {
            _steps.Enqueue(step);
        }
        else
        {
            Interlocked.Decrement(ref _pooled);
        }
    }
}
