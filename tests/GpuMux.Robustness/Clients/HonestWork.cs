using System.Runtime.InteropServices;
using GpuMux.Client;
using GpuMux.Gpu.Kernels;

namespace GpuMux.Robustness.Clients;

/// <summary>
/// An honest client's work on one connection: axpy, gemv (f16 weights) and checksum steps in
/// turn, on fresh random inputs, each output compared bit for bit with the C# reference.
/// </summary>
internal sealed class HonestWork : IAsyncDisposable
{
    private const uint Block = 256;
    private const int AxpyCount = 4096;
    private const int Rows = 64;
    private const int Cols = 512;
    private const int ChecksumBytes = 64 << 10;

    private const ulong AxpyBytes = AxpyCount * sizeof(float);
    private const ulong WeightBytes = Rows * Cols * sizeof(ushort);
    private const ulong GemvXBytes = Cols * sizeof(float);
    private const ulong GemvYBytes = Rows * sizeof(float);

    // Where each input and output lives in the shared region.
    private const ulong AxpyX = 0;
    private const ulong AxpyY = AxpyX + AxpyBytes;
    private const ulong Weights = AxpyY + AxpyBytes;
    private const ulong GemvX = Weights + WeightBytes;
    private const ulong GemvY = GemvX + GemvXBytes;
    private const ulong Data = GemvY + GemvYBytes;
    private const ulong Sum = Data + ChecksumBytes;
    private const ulong RegionBytes = Sum + sizeof(ulong);

    private readonly IAsyncDisposable[] _owned;
    private readonly SharedRegion _region;
    private readonly DeviceBuffer _x, _y, _w, _gx, _gy, _data, _sum;
    private readonly KernelFunction _axpy, _gemv, _fill, _checksum;
    private readonly StepBuilder _step = new();

    private HonestWork(SharedRegion region, DeviceBuffer[] buffers, KernelFunction[] functions)
    {
        _region = region;
        (_x, _y, _w, _gx, _gy, _data, _sum) = (buffers[0], buffers[1], buffers[2], buffers[3], buffers[4], buffers[5], buffers[6]);
        (_axpy, _gemv, _fill, _checksum) = (functions[0], functions[1], functions[2], functions[3]);
        _owned = [.. buffers, region];
    }

    public static async Task<HonestWork> SetUpAsync(GpuMuxClient client, CancellationToken cancellationToken)
    {
        var region = await client.CreateRegionAsync(RegionBytes, cancellationToken);
        var buffers = new List<DeviceBuffer>();
        try
        {
            foreach (var bytes in new ulong[] { AxpyBytes, AxpyBytes, WeightBytes, GemvXBytes, GemvYBytes, ChecksumBytes, sizeof(ulong) })
            {
                buffers.Add(await client.AllocateBufferAsync(bytes, cancellationToken));
            }

            var functions = new List<KernelFunction>();
            foreach (var name in new[] { "axpy_f32", "gemv_f16", "fill_f32", "checksum" })
            {
                functions.Add(await client.GetBuiltinAsync(name, cancellationToken));
            }

            return new HonestWork(region, [.. buffers], [.. functions]);
        }
        catch
        {
            foreach (var buffer in buffers)
            {
                await buffer.DisposeAsync();
            }

            await region.DisposeAsync();
            throw;
        }
    }

    /// <summary>Runs step <paramref name="index"/> (its kind by turn); null when its output is right, else what differed.</summary>
    /// <exception cref="GpuMuxException">The step failed.</exception>
    public async Task<string?> RunStepAsync(GpuMuxClient client, int index, Random random, CancellationToken cancellationToken) => (index % 3) switch
    {
        0 => await AxpyAsync(client, random, cancellationToken),
        1 => await GemvAsync(client, random, cancellationToken),
        _ => await ChecksumAsync(client, random, cancellationToken),
    };

    public async ValueTask DisposeAsync()
    {
        foreach (var owned in _owned)
        {
            await owned.DisposeAsync();
        }
    }

    private async Task<string?> AxpyAsync(GpuMuxClient client, Random random, CancellationToken cancellationToken)
    {
        var xs = RandomFloats(random, AxpyCount);
        var ys = RandomFloats(random, AxpyCount);
        var a = (float)random.NextDouble();
        xs.CopyTo(_region.AsSpan<float>(AxpyX, AxpyCount));
        ys.CopyTo(_region.AsSpan<float>(AxpyY, AxpyCount));
        KernelReference.Axpy(ys, xs, a);
        _step.Clear()
            .CopyIn(_region, AxpyX, _x, 0, AxpyBytes)
            .CopyIn(_region, AxpyY, _y, 0, AxpyBytes)
            .Launch(_axpy, (AxpyCount + Block - 1) / Block, Block).Buffer(_y).Buffer(_x).Float32(a).UInt64(AxpyCount)
            .CopyOut(_y, 0, _region, AxpyY, AxpyBytes);
        await client.SubmitAsync(_step, cancellationToken);
        return Compare("axpy_f32", ys, _region.AsSpan<float>(AxpyY, AxpyCount));
    }

    private async Task<string?> GemvAsync(GpuMuxClient client, Random random, CancellationToken cancellationToken)
    {
        var weights = KernelReference.EncodeWeights(WeightType.F16, RandomFloats(random, Rows * Cols));
        var xs = RandomFloats(random, Cols);
        weights.CopyTo(_region.AsSpan(Weights, weights.Length));
        xs.CopyTo(_region.AsSpan<float>(GemvX, Cols));
        var expected = new float[Rows];
        KernelReference.Gemv(WeightType.F16, weights, xs, expected, Rows, Cols);
        _step.Clear()
            .CopyIn(_region, Weights, _w, 0, WeightBytes)
            .CopyIn(_region, GemvX, _gx, 0, GemvXBytes)
            .Launch(_gemv, Rows * 32 / Block, Block).Buffer(_w).Buffer(_gx).Buffer(_gy).UInt32(Rows).UInt32(Cols)
            .CopyOut(_gy, 0, _region, GemvY, GemvYBytes);
        await client.SubmitAsync(_step, cancellationToken);
        return Compare("gemv_f16", expected, _region.AsSpan<float>(GemvY, Rows));
    }

    private async Task<string?> ChecksumAsync(GpuMuxClient client, Random random, CancellationToken cancellationToken)
    {
        random.NextBytes(_region.AsSpan(Data, ChecksumBytes));
        var expected = KernelReference.Checksum(_region.AsSpan(Data, ChecksumBytes));
        _step.Clear()
            .CopyIn(_region, Data, _data, 0, ChecksumBytes)
            .Launch(_fill, 1, 32).Buffer(_sum).Float32(0f).UInt64(2)
            .Launch(_checksum, 256, Block).Buffer(_data).UInt64(ChecksumBytes).Buffer(_sum)
            .CopyOut(_sum, 0, _region, Sum, sizeof(ulong));
        await client.SubmitAsync(_step, cancellationToken);
        var actual = MemoryMarshal.Read<ulong>(_region.AsSpan(Sum, sizeof(ulong)));
        return actual == expected ? null : $"checksum: 0x{actual:x16}, expected 0x{expected:x16}";
    }

    private static string? Compare(string kernel, ReadOnlySpan<float> expected, ReadOnlySpan<float> actual)
    {
        for (var i = 0; i < expected.Length; i++)
        {
            if (BitConverter.SingleToInt32Bits(expected[i]) != BitConverter.SingleToInt32Bits(actual[i]))
            {
                return $"{kernel}: element {i} is {actual[i]}, expected {expected[i]}";
            }
        }

        return null;
    }

    private static float[] RandomFloats(Random random, int count)
    {
        var values = new float[count];
        for (var i = 0; i < count; i++)
        {
            values[i] = (float)((random.NextDouble() * 2) - 1);
        }

        return values;
    }
}
