using GpuMux.Engine.Memory;
using GpuMux.Gpu;

namespace GpuMux.Engine.Tests.Memory;

public sealed class BounceRingTests
{
    private const ulong MiB = 1UL << 20;

    [Fact]
    public void Buffers_are_separate_page_aligned_and_survive_a_context_replacement()
    {
        using var gpu = new SimGpu();
        using var ring = new BounceRing(gpu.Context, 3, MiB + 1);

        Assert.Equal(3, ring.Count);
        Assert.Equal(MiB + 1, ring.BufferBytes);
        for (var i = 0; i < ring.Count; i++)
        {
            Assert.Equal(MiB + 1, ring[i].Bytes);
            Assert.Equal(0, ring[i].Pointer % 4096);
            ring[i].AsSpan(0, (int)ring.BufferBytes).Fill((byte)(i + 1));
        }
        Assert.True(ring[1].Pointer - ring[0].Pointer >= (nint)(MiB + 1));

        gpu.ReplaceContext();
        ring.Reattach(gpu.Context);

        using var device = gpu.Context.Allocate(ring.BufferBytes);
        for (var i = 0; i < ring.Count; i++)
        {
            gpu.Stream.CopyToDevice(device.Pointer, ring[i].Pointer, ring.BufferBytes);
            Assert.True(gpu.Download(device.Pointer, (int)ring.BufferBytes).AsSpan().IndexOfAnyExcept((byte)(i + 1)) < 0);
        }
        var again = Assert.ThrowsAny<GpuException>(() => gpu.Context.RegisterHostMemory(ring[2].Pointer, 4096));
        Assert.Equal(GpuStatus.HostMemoryAlreadyRegistered, again.Status);
    }
}
