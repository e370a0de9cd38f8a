using GpuMux.Linux;

namespace GpuMux.Engine.Tests.Memory;

public sealed class NumaPlacementTests
{
    [Theory]
    [InlineData("0", new[] { 0 })]
    [InlineData("0-3", new[] { 0, 1, 2, 3 })]
    [InlineData("0-1,8-9\n", new[] { 0, 1, 8, 9 })]
    [InlineData("5,7", new[] { 5, 7 })]
    public void A_kernel_cpulist_names_its_cpus(string list, int[] cpus) =>
        Assert.Equal(cpus, NumaPlacement.ParseCpuList(list));

    [Fact]
    public void A_device_that_is_not_on_the_pci_bus_has_no_node() =>
        Assert.Null(NumaPlacement.NodeOfPciDevice("sim:0"));

    [Fact]
    public void Memory_touched_on_a_node_is_there_and_zero()
    {
        if (!Directory.Exists("/sys/devices/system/node/node0"))
        {
            Assert.Skip("this machine does not describe its NUMA nodes in /sys/devices/system/node");
        }

        const int bytes = 1 << 20;
        var mapping = PageMappings.MapAnonymous(bytes);
        try
        {
            NumaPlacement.TouchOnNode(mapping, bytes, node: 0);

            unsafe
            {
                Assert.True(new ReadOnlySpan<byte>((void*)mapping, bytes).IndexOfAnyExcept((byte)0) < 0);
            }
        }
        finally
        {
            PageMappings.Unmap(mapping, bytes);
        }
    }
}
