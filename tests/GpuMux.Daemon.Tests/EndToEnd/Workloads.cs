using System.Runtime.InteropServices;
using GpuMux.Client;
using GpuMux.Gpu.Kernels;

namespace GpuMux.Daemon.Tests.EndToEnd;

/// <summary>Real work through the daemon, each step's result compared with the C# reference.</summary>
internal static class Workloads
{
    private const uint Block = 256;

    public static async Task AxpyAsync(GpuMuxClient client, int seed, int steps)
    {
        const int n = 4096;
        const ulong bytes = n * sizeof(float);
        var cancellation = TestContext.Current.CancellationToken;
        await using var region = await client.CreateRegionAsync(2 * bytes, cancellation);
        await using var x = await client.AllocateBufferAsync(bytes, cancellation);
        await using var y = await client.AllocateBufferAsync(bytes, cancellation);
        var axpy = await client.GetBuiltinAsync("axpy_f32", cancellation);
        var random = new Random(seed);
        var step = new StepBuilder();
        for (var i = 0; i < steps; i++)
        {
            var xs = RandomFloats(random, n);
            var ys = RandomFloats(random, n);
            var a = (float)random.NextDouble();
            xs.CopyTo(region.AsSpan<float>(0, n));
            ys.CopyTo(region.AsSpan<float>(bytes, n));
            KernelReference.Axpy(ys, xs, a);

            step.Clear()
                .CopyIn(region, 0, x, 0, bytes)
                .CopyIn(region, bytes, y, 0, bytes)
                .Launch(axpy, (n + Block - 1) / Block, Block).Buffer(y).Buffer(x).Float32(a).UInt64(n)
                .CopyOut(y, 0, region, bytes, bytes);
            await client.SubmitAsync(step, cancellation);

            Assert.Equal(ys, region.AsSpan<float>(bytes, n).ToArray());
        }
    }

    public static async Task GemvAsync(GpuMuxClient client, int seed, int steps)
    {
        const int rows = 64;
        const int cols = 512;
        var cancellation = TestContext.Current.CancellationToken;
        var random = new Random(seed);
        var weights = KernelReference.EncodeWeights(WeightType.F16, RandomFloats(random, rows * cols));
        var weightBytes = (ulong)weights.Length;
        const ulong xBytes = cols * sizeof(float);
        const ulong yBytes = rows * sizeof(float);
        await using var region = await client.CreateRegionAsync(weightBytes + xBytes + yBytes, cancellation);
        await using var w = await client.AllocateBufferAsync(weightBytes, cancellation);
        await using var x = await client.AllocateBufferAsync(xBytes, cancellation);
        await using var y = await client.AllocateBufferAsync(yBytes, cancellation);
        var gemv = await client.GetBuiltinAsync("gemv_f16", cancellation);
        weights.CopyTo(region.AsSpan(0, weights.Length));
        var step = new StepBuilder();
        for (var i = 0; i < steps; i++)
        {
            var xs = RandomFloats(random, cols);
            xs.CopyTo(region.AsSpan<float>(weightBytes, cols));
            var expected = new float[rows];
            KernelReference.Gemv(WeightType.F16, weights, xs, expected, rows, cols);

            step.Clear();
            if (i == 0)
            {
                step.CopyIn(region, 0, w, 0, weightBytes);
            }

            step.CopyIn(region, weightBytes, x, 0, xBytes)
                .Launch(gemv, rows * 32 / Block, Block).Buffer(w).Buffer(x).Buffer(y).UInt32(rows).UInt32(cols)
                .CopyOut(y, 0, region, weightBytes + xBytes, yBytes);
            await client.SubmitAsync(step, cancellation);

            Assert.Equal(expected, region.AsSpan<float>(weightBytes + xBytes, rows).ToArray());
        }
    }

    public static async Task ChecksumAsync(GpuMuxClient client, int seed, int steps)
    {
        const int dataBytes = 1 << 20;
        var cancellation = TestContext.Current.CancellationToken;
        await using var region = await client.CreateRegionAsync(dataBytes + sizeof(ulong), cancellation);
        await using var data = await client.AllocateBufferAsync(dataBytes, cancellation);
        await using var sum = await client.AllocateBufferAsync(sizeof(ulong), cancellation);
        var fill = await client.GetBuiltinAsync("fill_f32", cancellation);
        var checksum = await client.GetBuiltinAsync("checksum", cancellation);
        var random = new Random(seed);
        var step = new StepBuilder();
        for (var i = 0; i < steps; i++)
        {
            random.NextBytes(region.AsSpan(0, dataBytes));
            var expected = KernelReference.Checksum(region.AsSpan(0, dataBytes));

            step.Clear()
                .CopyIn(region, 0, data, 0, dataBytes)
                .Launch(fill, 1, 32).Buffer(sum).Float32(0f).UInt64(2)
                .Launch(checksum, 256, Block).Buffer(data).UInt64(dataBytes).Buffer(sum)
                .CopyOut(sum, 0, region, dataBytes, sizeof(ulong));
            await client.SubmitAsync(step, cancellation);

            Assert.Equal(expected, MemoryMarshal.Read<ulong>(region.AsSpan(dataBytes, sizeof(ulong))));
        }
    }

    public static float[] RandomFloats(Random random, int count)
    {
        var values = new float[count];
        for (var i = 0; i < count; i++)
        {
            values[i] = (float)(random.NextDouble() * 2 - 1);
        }

        return values;
    }
}
