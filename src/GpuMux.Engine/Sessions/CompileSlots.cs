using System.Collections.Concurrent;

namespace GpuMux.Engine.Sessions;

/// <summary>
/// Where CUDA C is compiled: off the engine thread, on a thread of each compile's own (a compile
/// holds its thread for up to seconds, which the thread pool must not lose), at most
/// <c>perTenant</c> at a time for one uid. A compile over its tenant's bound waits for one of
/// them to finish, holding no thread meanwhile; a session's requests run one after another, so
/// one session waits for at most one compile. Other tenants' compiles, and every step, go on.
/// </summary>
internal sealed class CompileSlots(int perTenant)
{
    // One per uid that has compiled, kept: uids are the host's users, and a semaphore is small.
    private readonly ConcurrentDictionary<uint, SemaphoreSlim> _tenants = new();

    public async Task<T> RunAsync<T>(uint uid, Func<T> compile, CancellationToken cancellationToken)
    {
        var slots = _tenants.GetOrAdd(uid, _ => new SemaphoreSlim(perTenant, perTenant));
        await slots.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            return await Task.Factory.StartNew(compile, CancellationToken.None, TaskCreationOptions.LongRunning, TaskScheduler.Default).ConfigureAwait(false);
        }
        finally
        {
            slots.Release();
        }
    }
}
