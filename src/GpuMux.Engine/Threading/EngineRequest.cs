namespace GpuMux.Engine.Threading;

/// <summary>
/// A call into the engine thread with a result for the caller. Cancelling it while it waits in
/// the queue stops it from running; once it runs, it runs to the end.
/// </summary>
internal sealed class EngineRequest<T> : IEngineWork
{
    private readonly Func<EngineRuntime, T> _body;
    private readonly TaskCompletionSource<T> _result = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private readonly CancellationTokenRegistration _cancellation;

    public EngineRequest(Func<EngineRuntime, T> body, CancellationToken cancellationToken)
    {
        _body = body;
        _cancellation = cancellationToken.UnsafeRegister(
            static (state, token) => ((TaskCompletionSource<T>)state!).TrySetCanceled(token),
            _result);
    }

    public Task<T> Task => _result.Task;

    public void Execute(EngineRuntime runtime)
    {
        _cancellation.Dispose();
        if (_result.Task.IsCompleted)
        {
            return;
        }
        try
        {
            _result.TrySetResult(runtime.Run(_body));
        }
        catch (Exception e)
        {
            _result.TrySetException(e);
        }
    }

    public void Abandon()
    {
        _cancellation.Dispose();
        _result.TrySetException(new EngineException(EngineError.ShuttingDown, "the engine has stopped"));
    }
}

/// <summary>Registers a new session with the engine thread; nothing to answer.</summary>
internal sealed class SessionOpening(EngineSession session) : IEngineWork
{
    public void Execute(EngineRuntime runtime) => runtime.Open(session.State);

    public void Abandon()
    {
    }
}

/// <summary>Marks the point in the queue after which the engine stops, once its steps on the device are done.</summary>
internal sealed class Drain : IEngineWork
{
    public void Execute(EngineRuntime runtime) => runtime.BeginDrain();

    public void Abandon()
    {
    }
}

/// <summary>A lease's wall-clock end, posted by its timer.</summary>
internal sealed class LeaseEnd(Sessions.SessionState session, Tenants.Lease lease) : IEngineWork
{
    public void Execute(EngineRuntime runtime) => runtime.ExpireLease(session, lease);

    public void Abandon()
    {
    }
}
