namespace GpuMux.Engine.Sessions;

/// <summary>
/// What a session let go of while its steps were on the device, each held until the steps issued
/// before the release have completed: freeing memory under a running kernel would turn the
/// session's own correct step into an illegal address. A session's steps run on its one stream,
/// so they complete in the order they were issued.
/// </summary>
internal sealed class DeferredReleases
{
    private readonly Queue<(long AfterStep, IDisposable Resource)> _pending = new();

    public void Add(long afterStep, IDisposable resource) => _pending.Enqueue((afterStep, resource));

    public void ReleaseThrough(long completedStep)
    {
        while (_pending.TryPeek(out var next) && next.AfterStep <= completedStep)
        {
            _pending.Dequeue().Resource.Dispose();
        }
    }

    public void ReleaseAll()
    {
        while (_pending.TryDequeue(out var next))
        {
            next.Resource.Dispose();
        }
    }
}
