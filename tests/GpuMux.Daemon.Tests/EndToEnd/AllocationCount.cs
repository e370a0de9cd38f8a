namespace GpuMux.Daemon.Tests.EndToEnd;

/// <summary>
/// The bytes this process allocates while some work runs, counted so that the thread pool's own
/// growth does not count against it. A thread the pool adds costs some 50 KB (it probes for a
/// better thread count on its own schedule, more often on a loaded machine): a count during which
/// the pool changed is not taken, and the least of several is, where work that allocated each time
/// it ran would show in every one.
/// </summary>
internal static class AllocationCount
{
    private const int Attempts = 5;

    /// <summary>
    /// The least count of up to five runs of <paramref name="work"/>, stopping at the first under
    /// <paramref name="enough"/>; of all of them where the pool changed during every one.
    /// </summary>
    public static async Task<long> LeastAsync(Func<Task> work, long enough)
    {
        var leastUndisturbed = long.MaxValue;
        var least = long.MaxValue;
        for (var attempt = 0; attempt < Attempts && leastUndisturbed >= enough; attempt++)
        {
            var threads = ThreadPool.ThreadCount;
            var before = GC.GetTotalAllocatedBytes(precise: true);
            await work();
            var counted = GC.GetTotalAllocatedBytes(precise: true) - before;
            least = Math.Min(least, counted);
            if (ThreadPool.ThreadCount == threads)
            {
                leastUndisturbed = Math.Min(leastUndisturbed, counted);
            }
        }
        return leastUndisturbed != long.MaxValue ? leastUndisturbed : least;
    }
}
