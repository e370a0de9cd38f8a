using GpuMux.Engine.Memory;
using GpuMux.Gpu;
using GpuMux.Gpu.Kernels;

namespace GpuMux.Engine.Tests.Memory;

public sealed class DevicePagePoolTests
{
    private const ulong MiB = 1UL << 20;
    private const ulong Page = 2 * MiB;

    [Fact]
    public void Allocations_are_counted_in_whole_pages_and_come_back_on_release()
    {
        using var gpu = new SimGpu();
        using var pool = new DevicePagePool(gpu.Context, (64 * MiB) + 1000, Page);

        Assert.Equal(Page, pool.PageBytes);
        Assert.Equal(64 * MiB, pool.BudgetBytes);
        Assert.Equal(64 * MiB, pool.FreeBytes);

        var range = pool.TryAllocate((3 * MiB) + 5);

        Assert.NotNull(range);
        Assert.True(range.IsMapped);
        Assert.Equal((3 * MiB) + 5, range.Bytes);
        Assert.Equal(4 * MiB, range.MappedBytes);
        Assert.Equal(2, range.Pages.Count);
        Assert.Equal(60 * MiB, pool.FreeBytes);
        Assert.Equal(4 * MiB, pool.UsedBytes);

        pool.Release(range);
        pool.Release(range);

        Assert.Equal(64 * MiB, pool.FreeBytes);
        Assert.Equal(0UL, pool.UsedBytes);
    }

    [Fact]
    public void A_page_is_rounded_up_to_the_allocation_granularity_and_is_one_physical_allocation_of_its_size()
    {
        using var gpu = new SimGpu();
        var baseline = gpu.Context.GetMemoryInfo().FreeBytes;

        using var pool = new DevicePagePool(gpu.Context, 40 * MiB, 3 * MiB);
        var range = pool.TryAllocate(5 * MiB)!;

        Assert.Equal(4 * MiB, pool.PageBytes);
        Assert.Equal(40 * MiB, pool.BudgetBytes);
        Assert.Equal(baseline - (40 * MiB), gpu.Context.GetMemoryInfo().FreeBytes);
        Assert.Equal(8 * MiB, range.MappedBytes);
        Assert.All(range.Pages, page => Assert.Equal(4 * MiB, page.Length));
    }

    [Fact]
    public void Each_page_is_mapped_and_unmapped_by_a_call_of_its_own_and_a_range_gets_its_access_in_one()
    {
        using var gpu = new SimGpu();
        using var pool = new DevicePagePool(gpu.Context, 64 * MiB, 8 * MiB);
        var model = pool.Reserve(40 * MiB);

        Assert.True(pool.TryMap(model));
        Assert.Equal(new MappingCalls(Maps: 5, AccessChanges: 1, Unmaps: 0), pool.Calls);

        pool.Unmap(model);
        Assert.Equal(new MappingCalls(Maps: 5, AccessChanges: 1, Unmaps: 5), pool.Calls);
        pool.Release(model);
    }

    [Fact]
    public void A_range_larger_than_the_hole_a_free_left_maps_that_hole_and_other_pages_contiguously()
    {
        using var gpu = new SimGpu();
        using var pool = new DevicePagePool(gpu.Context, 64 * MiB, Page);
        var a = pool.TryAllocate(6 * MiB)!;
        var b = pool.TryAllocate(8 * MiB)!;
        var c = pool.TryAllocate(44 * MiB)!;
        var aData = RandomBytes(1, (int)a.Bytes);
        gpu.Stream.Upload<byte>(a.Start, aData);
        var bPages = b.Pages.ToArray();
        pool.Release(b);
        Assert.Equal(14 * MiB, pool.FreeBytes);

        var d = pool.TryAllocate(14 * MiB);

        Assert.NotNull(d);
        Assert.Equal(0UL, pool.FreeBytes);
        Assert.Subset(d.Pages.ToHashSet(), bPages.ToHashSet());
        var data = RandomBytes(2, (int)d.Bytes);
        gpu.Stream.Upload<byte>(d.Start, data);
        Assert.Equal(data, gpu.Download(d.Start, data.Length));
        Assert.Equal(aData, gpu.Download(a.Start, aData.Length));

        // A kernel's writes run across the page boundaries too.
        using var kernels = BuiltinKernels.Load(gpu.Context);
        const int Floats = (int)(3 * Page / sizeof(float));
        var from = d.Start + (Page / 2);
        kernels.Fill(gpu.Stream, from, 3.5f, Floats);
        var filled = new float[Floats];
        gpu.Stream.Download<float>(filled, from);
        Assert.All(filled, v => Assert.Equal(3.5f, v));
        pool.Release(c);
        pool.Release(d);
        pool.Release(a);
        Assert.Equal(64 * MiB, pool.FreeBytes);
    }

    [Fact]
    public void An_allocation_beyond_the_free_pages_is_null_and_takes_nothing()
    {
        using var gpu = new SimGpu();
        using var pool = new DevicePagePool(gpu.Context, 16 * MiB, Page);
        var held = pool.TryAllocate(10 * MiB)!;
        var deviceFree = gpu.Context.GetMemoryInfo().FreeBytes;

        Assert.Null(pool.TryAllocate(8 * MiB));
        Assert.Null(pool.TryAllocate(1UL << 62));

        Assert.Equal(6 * MiB, pool.FreeBytes);
        Assert.Equal(deviceFree, gpu.Context.GetMemoryInfo().FreeBytes);
        var rest = pool.TryAllocate(6 * MiB);
        Assert.NotNull(rest);
        Assert.Equal(0UL, pool.FreeBytes);
        pool.Release(rest);
        pool.Release(held);
    }

    [Fact]
    public void A_reserved_range_keeps_its_address_through_map_unmap_cycles_and_pages_are_reused()
    {
        using var gpu = new SimGpu();
        using var pool = new DevicePagePool(gpu.Context, 16 * MiB, Page);
        var first = pool.Reserve(10 * MiB);
        var second = pool.Reserve(10 * MiB);
        Assert.False(first.IsMapped);
        Assert.Empty(first.Pages);
        Assert.Equal(16 * MiB, pool.FreeBytes);

        Assert.True(pool.TryMap(first));
        Assert.Equal(6 * MiB, pool.FreeBytes);
        var data = RandomBytes(3, (int)first.Bytes);
        gpu.Stream.Upload<byte>(first.Start, data);
        Assert.Equal(data, gpu.Download(first.Start, data.Length));

        Assert.False(pool.TryMap(second));
        Assert.False(second.IsMapped);
        Assert.Equal(6 * MiB, pool.FreeBytes);

        var start = first.Start;
        var pages = first.Pages.ToHashSet();
        pool.Unmap(first);
        Assert.False(first.IsMapped);
        Assert.Equal(start, first.Start);
        Assert.Equal(16 * MiB, pool.FreeBytes);
        Assert.ThrowsAny<GpuException>(() => gpu.Stream.CopyToDevice(first.Start, 0x1000, 4096));

        Assert.True(pool.TryMap(second));
        Assert.Equal(pages, second.Pages.ToHashSet());
        gpu.Stream.Upload<byte>(second.Start, data);
        Assert.Equal(data, gpu.Download(second.Start, data.Length));
        pool.Unmap(second);
        Assert.True(pool.TryMap(first));
        Assert.Equal(start, first.Start);
        pool.Release(first);
        pool.Release(second);
        Assert.Equal(16 * MiB, pool.FreeBytes);
    }

    [Fact]
    public void Disposing_the_pool_gives_the_device_its_memory_back()
    {
        using var gpu = new SimGpu();
        var baseline = gpu.Context.GetMemoryInfo().FreeBytes;
        var pool = new DevicePagePool(gpu.Context, 64 * MiB, Page);
        Assert.Equal(baseline - (64 * MiB), gpu.Context.GetMemoryInfo().FreeBytes);
        _ = pool.TryAllocate(5 * MiB);
        _ = pool.TryAllocate(20 * MiB);
        var reserved = pool.Reserve(4 * MiB);
        _ = pool.TryMap(reserved);
        pool.Unmap(reserved);
        _ = pool.Reserve(30 * MiB);

        pool.Dispose();
        pool.Dispose();

        Assert.Equal(baseline, gpu.Context.GetMemoryInfo().FreeBytes);
        Assert.Throws<ObjectDisposedException>(() => pool.TryAllocate(1));
    }

    [Fact]
    public void A_device_that_cannot_give_the_whole_budget_is_an_out_of_memory_error_saying_how_much_it_gave()
    {
        using var gpu = new SimGpu(capacity: 40 * MiB);
        var baseline = gpu.Context.GetMemoryInfo().FreeBytes;

        var error = Assert.ThrowsAny<GpuException>(() => new DevicePagePool(gpu.Context, 64 * MiB, 16 * MiB));

        Assert.Equal(GpuStatus.OutOfMemory, error.Status);
        Assert.Contains($"gave {32 * MiB} bytes (2 pages of {16 * MiB})", error.Message, StringComparison.Ordinal);
        Assert.Equal(baseline, gpu.Context.GetMemoryInfo().FreeBytes);
    }

    [Fact]
    public void Releasing_and_disposing_after_a_fault_poisoned_the_context_do_not_throw()
    {
        using var gpu = new SimGpu();
        var pool = new DevicePagePool(gpu.Context, 16 * MiB, Page);
        var released = pool.TryAllocate(4 * MiB)!;
        _ = pool.TryAllocate(4 * MiB);
        _ = pool.Reserve(4 * MiB);
        using (var kernels = BuiltinKernels.Load(gpu.Context))
        {
            kernels.Fill(gpu.Stream, new DevicePtr(0x1000), 1f, 16);
            Assert.True(Assert.ThrowsAny<GpuException>(() => gpu.Stream.Synchronize()).IsContextFatal);
        }

        pool.Release(released);
        pool.Dispose();
    }

    [Fact]
    public void Disposing_after_the_context_is_gone_does_not_throw()
    {
        using var gpu = new SimGpu();
        var pool = new DevicePagePool(gpu.Context, 16 * MiB, Page);
        _ = pool.TryAllocate(6 * MiB);
        _ = pool.Reserve(2 * MiB);

        gpu.ReplaceContext();
        pool.Dispose();

        using var fresh = new DevicePagePool(gpu.Context, 16 * MiB, Page);
        Assert.NotNull(fresh.TryAllocate(16 * MiB));
    }

    private static byte[] RandomBytes(int seed, int count)
    {
        var bytes = new byte[count];
        new Random(seed).NextBytes(bytes);
        return bytes;
    }
}
