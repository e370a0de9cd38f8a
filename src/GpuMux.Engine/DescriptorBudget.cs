namespace GpuMux.Engine;

/// <summary>
/// The file descriptors that clients may make the daemon hold: a connection's socket and the
/// descriptors its frame may carry, a model kept as a file. A process out of descriptors is not
/// only refused new files: the .NET runtime cannot start a thread (it needs a pipe for that) and
/// ends the process. So these are counted against a share of the process's limit, taken before
/// a descriptor is held and given back once it is closed, and what is out of room waits or is
/// refused, while the rest of the limit stays for the runtime and the daemon's own files.
/// </summary>
public sealed class DescriptorBudget
{
    private readonly Lock _gate = new();
    private readonly LinkedList<Waiter> _waiters = new();
    private int _inUse;

    public DescriptorBudget(int capacity)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(capacity);
        Capacity = capacity;
    }

    /// <summary>A budget that no client's use comes near: for an engine whose descriptors are not at stake (tests, tools).</summary>
    public static DescriptorBudget Unbounded() => new(int.MaxValue);

    public int Capacity { get; }

    public int InUse
    {
        get
        {
            lock (_gate)
            {
                return _inUse;
            }
        }
    }

    /// <summary>Takes <paramref name="count"/> descriptors if they are free now, and nobody waits before.</summary>
    public bool TryTake(int count)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(count);
        lock (_gate)
        {
            if (_waiters.Count > 0 || !Fits(count))
            {
                return false;
            }

            _inUse += count;
            return true;
        }
    }

    /// <summary>Takes <paramref name="count"/> descriptors once they are free, after those who asked before.</summary>
    public async Task TakeAsync(int count, CancellationToken cancellationToken)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(count);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(count, Capacity);
        Waiter waiter;
        lock (_gate)
        {
            if (_waiters.Count == 0 && Fits(count))
            {
                _inUse += count;
                return;
            }

            waiter = new Waiter(count);
            _waiters.AddLast(waiter.Node);
        }

        using (cancellationToken.Register(() => Abandon(waiter, cancellationToken)))
        {
            await waiter.Taken.Task.ConfigureAwait(false);
        }
    }

    /// <summary>Gives back descriptors that have been closed.</summary>
    public void Return(int count)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(count);
        List<Waiter> served;
        lock (_gate)
        {
            if (count > _inUse)
            {
                throw new InvalidOperationException($"{count} descriptors given back, but only {_inUse} were taken");
            }

            _inUse -= count;
            served = ServeWaiters();
        }

        Wake(served);
    }

    private bool Fits(int count) => count <= Capacity - _inUse;

    /// <summary>Gives their descriptors to the waiters at the head of the line that now fit.</summary>
    private List<Waiter> ServeWaiters()
    {
        List<Waiter> served = [];
        while (_waiters.First is { } first && Fits(first.Value.Count))
        {
            _inUse += first.Value.Count;
            _waiters.RemoveFirst();
            served.Add(first.Value);
        }
        return served;
    }

    private static void Wake(List<Waiter> served)
    {
        foreach (var waiter in served)
        {
            waiter.Taken.TrySetResult();
        }
    }

    /// <summary>A cancelled waiter leaves the line, which may let those behind it through.</summary>
    private void Abandon(Waiter waiter, CancellationToken cancellationToken)
    {
        List<Waiter> served;
        lock (_gate)
        {
            if (waiter.Node.List is null)
            {
                return;
            }

            _waiters.Remove(waiter.Node);
            served = ServeWaiters();
        }

        waiter.Taken.TrySetCanceled(cancellationToken);
        Wake(served);
    }

    private sealed class Waiter
    {
        public Waiter(int count)
        {
            Count = count;
            Node = new LinkedListNode<Waiter>(this);
        }

        public int Count { get; }

        public LinkedListNode<Waiter> Node { get; }

        public TaskCompletionSource Taken { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);
    }
}
