using GpuMux.Gpu.Sim;

namespace GpuMux.Gpu.Tests.Sim;

public sealed class SimAddressSpaceTests
{
    [Fact]
    public void Adjacent_ranges_cover_an_access_that_spans_them()
    {
        var space = new SimAddressSpace();
        space.Add(1000, 100, writable: true);
        space.Add(1100, 100, writable: true);

        Assert.True(space.Covers(1050, 100, write: true));
        Assert.True(space.Covers(1000, 200, write: true));
        Assert.False(space.Covers(1000, 201, write: false));
        Assert.False(space.Covers(999, 2, write: false));
    }

    [Fact]
    public void Removing_a_middle_piece_splits_a_range()
    {
        var space = new SimAddressSpace();
        space.Add(0, 300, writable: true);

        space.Remove(100, 100);

        Assert.True(space.Covers(0, 100, write: true));
        Assert.True(space.Covers(200, 100, write: true));
        Assert.False(space.Covers(50, 100, write: false));
        Assert.False(space.Covers(150, 1, write: false));
    }

    [Fact]
    public void Read_only_ranges_refuse_writes_and_empty_accesses_always_pass()
    {
        var space = new SimAddressSpace();
        space.Add(4096, 4096, writable: false);

        Assert.True(space.Covers(4096, 4096, write: false));
        Assert.False(space.Covers(4096, 1, write: true));
        Assert.True(space.Covers(12345, 0, write: true));
        Assert.False(space.Covers(ulong.MaxValue - 1, 4, write: false));
    }
}
