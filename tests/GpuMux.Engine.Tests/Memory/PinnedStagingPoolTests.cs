using GpuMux.Engine.Memory;
using GpuMux.Gpu;

namespace GpuMux.Engine.Tests.Memory;

public sealed class PinnedStagingPoolTests
{
    private const ulong KiB = 1UL << 10;
    private const ulong MiB = 1UL << 20;

    [Fact]
    public void Slices_are_aligned_rounded_up_and_counted()
    {
        using var gpu = new SimGpu();
        using var pool = new PinnedStagingPool(gpu.Context, MiB);

        var one = pool.TryAllocate(1)!;
        var two = pool.TryAllocate(4097)!;
        var three = pool.TryAllocate(4096)!;

        Assert.Equal(0UL, one.Offset);
        Assert.Equal(1UL, one.Bytes);
        Assert.Equal(4096UL, two.Offset);
        Assert.Equal(4097UL, two.Bytes);
        Assert.Equal(3 * 4096UL, three.Offset);
        Assert.All(new[] { one, two, three }, s => Assert.Equal(0, s.Pointer % 4096));
        Assert.Equal(two.Pointer - one.Pointer, (nint)two.Offset);
        Assert.Equal(MiB - (4 * 4096), pool.FreeBytes);
        pool.Free(one);
        pool.Free(two);
        pool.Free(three);
        Assert.Equal(MiB, pool.FreeBytes);
    }

    [Fact]
    public void A_larger_alignment_aligns_the_addresses_too()
    {
        using var gpu = new SimGpu();
        using var pool = new PinnedStagingPool(gpu.Context, MiB + 5, alignment: 64 * KiB);

        var first = pool.TryAllocate(100)!;
        var second = pool.TryAllocate(100)!;

        Assert.Equal(MiB, pool.BudgetBytes);
        Assert.Equal(64 * KiB, second.Offset);
        Assert.Equal(0, first.Pointer % (nint)(64 * KiB));
        Assert.Equal(0, second.Pointer % (nint)(64 * KiB));
        Assert.Throws<ArgumentOutOfRangeException>(() => new PinnedStagingPool(gpu.Context, MiB, alignment: 3000));
    }

    [Fact]
    public void Allocation_takes_the_first_extent_that_fits()
    {
        using var gpu = new SimGpu();
        using var pool = new PinnedStagingPool(gpu.Context, MiB);
        var a = pool.TryAllocate(64 * KiB)!;
        _ = pool.TryAllocate(64 * KiB)!;
        var c = pool.TryAllocate(128 * KiB)!;
        _ = pool.TryAllocate(64 * KiB)!;
        pool.Free(a);
        pool.Free(c);

        var small = pool.TryAllocate(32 * KiB)!;
        var larger = pool.TryAllocate(64 * KiB)!;
        var tail = pool.TryAllocate(200 * KiB)!;

        Assert.Equal(0UL, small.Offset);
        Assert.Equal(128 * KiB, larger.Offset);
        Assert.Equal(320 * KiB, tail.Offset);
    }

    [Fact]
    public void Freed_neighbours_merge_back_into_one_extent()
    {
        using var gpu = new SimGpu();
        using var pool = new PinnedStagingPool(gpu.Context, MiB);
        var a = pool.TryAllocate(100 * KiB)!;
        var b = pool.TryAllocate(100 * KiB)!;
        var c = pool.TryAllocate(100 * KiB)!;
        var d = pool.TryAllocate(MiB - (300 * KiB))!;
        Assert.Equal(0, pool.FreeExtentCount);

        pool.Free(b);
        Assert.Equal(1, pool.FreeExtentCount);
        pool.Free(d);
        Assert.Equal(2, pool.FreeExtentCount);
        pool.Free(a);
        Assert.Equal(2, pool.FreeExtentCount);
        pool.Free(c);

        Assert.Equal(1, pool.FreeExtentCount);
        Assert.Equal(MiB, pool.FreeBytes);
        var whole = pool.TryAllocate(MiB);
        Assert.NotNull(whole);
        Assert.Equal(0UL, whole.Offset);
    }

    [Fact]
    public void An_exhausted_pool_answers_null_and_freeing_twice_counts_once()
    {
        using var gpu = new SimGpu();
        using var pool = new PinnedStagingPool(gpu.Context, 256 * KiB);
        var all = pool.TryAllocate(256 * KiB)!;

        Assert.Null(pool.TryAllocate(1));
        Assert.Null(pool.TryAllocate(ulong.MaxValue));
        pool.Free(all);
        pool.Free(all);
        Assert.Equal(256 * KiB, pool.FreeBytes);
        Assert.Equal(1, pool.FreeExtentCount);
        Assert.NotNull(pool.TryAllocate(256 * KiB));
        Assert.Null(pool.TryAllocate(1));
    }

    [Fact]
    public void A_zero_budget_is_a_pool_with_nothing_in_it()
    {
        using var gpu = new SimGpu();
        using var pool = new PinnedStagingPool(gpu.Context, 0);

        Assert.Equal(0UL, pool.BudgetBytes);
        Assert.Equal(0UL, pool.FreeBytes);
        Assert.Null(pool.TryAllocate(1));
    }

    [Fact]
    public void Spans_cover_a_slice_in_chunks_and_no_further()
    {
        using var gpu = new SimGpu();
        using var pool = new PinnedStagingPool(gpu.Context, MiB);
        var slice = pool.TryAllocate(10_000)!;

        slice.AsSpan(0, 6000).Fill(1);
        slice.AsSpan(6000, 4000).Fill(2);

        Assert.Equal(10_000, slice.AsSpan(0, 10_000).Length);
        Assert.Equal(1, slice.AsSpan(5999, 1)[0]);
        Assert.Equal(2, slice.AsSpan(9999, 1)[0]);
        Assert.Equal(0, slice.AsSpan(10_000, 0).Length);
        Assert.Throws<ArgumentOutOfRangeException>(() => slice.AsSpan(9999, 2));
        Assert.Throws<ArgumentOutOfRangeException>(() => slice.AsSpan(10_001, 0));
    }

    [Fact]
    public void Threads_allocating_and_freeing_at_once_never_share_bytes_and_leave_the_pool_whole()
    {
        using var gpu = new SimGpu();
        using var pool = new PinnedStagingPool(gpu.Context, 4 * MiB);

        Parallel.For(0, 8, new ParallelOptions { MaxDegreeOfParallelism = 8 }, worker =>
        {
            var random = new Random(worker);
            var held = new List<PinnedSlice>();
            for (var i = 0; i < 400; i++)
            {
                if (pool.TryAllocate((ulong)random.Next(1, 96 * 1024)) is { } slice)
                {
                    slice.AsSpan(0, (int)slice.Bytes).Fill((byte)(worker + 1));
                    held.Add(slice);
                }
                if (held.Count > 3 || (held.Count > 0 && random.Next(2) == 0))
                {
                    var victim = held[random.Next(held.Count)];
                    held.Remove(victim);
                    Assert.True(victim.AsSpan(0, (int)victim.Bytes).IndexOfAnyExcept((byte)(worker + 1)) < 0);
                    pool.Free(victim);
                }
            }
            foreach (var slice in held)
            {
                Assert.True(slice.AsSpan(0, (int)slice.Bytes).IndexOfAnyExcept((byte)(worker + 1)) < 0);
                pool.Free(slice);
            }
        });

        Assert.Equal(4 * MiB, pool.FreeBytes);
        Assert.Equal(1, pool.FreeExtentCount);
    }

    [Fact]
    public void After_a_context_is_replaced_the_staged_bytes_are_still_there_and_pinned_for_the_new_one()
    {
        using var gpu = new SimGpu();
        using var pool = new PinnedStagingPool(gpu.Context, 8 * MiB);
        var slice = pool.TryAllocate((3 * MiB) + 5)!;
        var expected = new byte[slice.Bytes];
        new Random(7).NextBytes(expected);
        for (ulong offset = 0; offset < slice.Bytes; offset += MiB)
        {
            var length = (int)Math.Min(MiB, slice.Bytes - offset);
            expected.AsSpan((int)offset, length).CopyTo(slice.AsSpan(offset, length));
        }

        gpu.ReplaceContext();
        pool.Reattach(gpu.Context);

        using var device = gpu.Context.Allocate(slice.Bytes);
        gpu.Stream.CopyToDevice(device.Pointer, slice.Pointer, slice.Bytes);
        gpu.Stream.Synchronize();
        Assert.Equal(expected, gpu.Download(device.Pointer, expected.Length));
        Assert.True(slice.AsSpan(0, expected.Length).SequenceEqual(expected));
        var again = Assert.ThrowsAny<GpuException>(() => gpu.Context.RegisterHostMemory(slice.Pointer, 4096));
        Assert.Equal(GpuStatus.HostMemoryAlreadyRegistered, again.Status);
    }
}
