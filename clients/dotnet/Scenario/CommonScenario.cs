using System.Buffers.Binary;
using System.Runtime.InteropServices;
using System.Text;
using GpuMux.Client;
using static GpuMux.Scenario.HostResults;

namespace GpuMux.Scenario;

/// <summary>clients/scenario.md, step by step, through GpuMux.Client.</summary>
internal static class CommonScenario
{
    private const uint Block = 256;
    private const uint Blocks = (N + Block - 1) / Block;
    private const uint GemvBlocks = Rows / (Block / 32);

    public static async Task RunAsync(TextWriter output)
    {
        await using var gpu = await GpuMuxClient.ConnectAsync(new GpuMuxClientOptions { ClientName = "scenario" });

        // 1. The quota: the report has an entry for this process's uid.
        var uid = OwnUid();
        var tenants = await gpu.GetTenantsAsync();
        ScenarioFailure.Unless(tenants.Tenants.Any(t => t.Uid == uid), "quota", () => $"no entry for uid {uid} among {tenants.Tenants.Count}");

        // 2. A lease, read back.
        await gpu.AcquireLeaseAsync("standard", maxDuration: TimeSpan.FromSeconds(60));
        var lease = await gpu.GetLeaseAsync();
        ScenarioFailure.Unless(lease is { Class: "standard" }, "lease", () => $"GetLease says {lease}");

        // 3. One region, laid out in 256-byte aligned parts, and the buffers.
        await using var region = await gpu.CreateRegionAsync(1 << 20);
        var layout = new RegionLayout();
        var (xIn, yIn, vIn) = (layout.Take(4 * N), layout.Take(4 * N), layout.Take(4 * Cols));
        var (w32In, w16In, wb16In, zeroIn) = (layout.Take(4 * Rows * Cols), layout.Take(2 * Rows * Cols), layout.Take(2 * Rows * Cols), layout.Take(8));
        var (yOut, outOut, xOut, sumOut) = (layout.Take(4 * N), layout.Take(4 * Rows), layout.Take(4 * N), layout.Take(8));
        X.CopyTo(region.AsSpan<float>(xIn, N));
        Y.CopyTo(region.AsSpan<float>(yIn, N));
        V.CopyTo(region.AsSpan<float>(vIn, Cols));
        W.CopyTo(region.AsSpan<float>(w32In, Rows * Cols));
        WHalf.CopyTo(region.AsSpan<ushort>(w16In, Rows * Cols));
        WBfloat16.CopyTo(region.AsSpan<ushort>(wb16In, Rows * Cols));
        region.AsSpan(zeroIn, 8).Clear();

        await using var x = await gpu.AllocateBufferAsync(4 * N);
        await using var y = await gpu.AllocateBufferAsync(4 * N);
        await using var w32 = await gpu.AllocateBufferAsync(4 * Rows * Cols);
        await using var w16 = await gpu.AllocateBufferAsync(2 * Rows * Cols);
        await using var wb16 = await gpu.AllocateBufferAsync(2 * Rows * Cols);
        await using var v = await gpu.AllocateBufferAsync(4 * Cols);
        await using var result = await gpu.AllocateBufferAsync(4 * Rows);
        await using var sum = await gpu.AllocateBufferAsync(8);
        var fill = await gpu.GetBuiltinAsync("fill_f32");

        // 4. axpy.
        await gpu.SubmitAsync(new StepBuilder()
            .CopyIn(region, xIn, x, 0, 4 * N).CopyIn(region, yIn, y, 0, 4 * N).CopyIn(region, vIn, v, 0, 4 * Cols)
            .CopyIn(region, w32In, w32, 0, 4 * Rows * Cols).CopyIn(region, w16In, w16, 0, 2 * Rows * Cols)
            .CopyIn(region, wb16In, wb16, 0, 2 * Rows * Cols).CopyIn(region, zeroIn, sum, 0, 8)
            .Launch(await gpu.GetBuiltinAsync("axpy_f32"), Blocks, Block).Buffer(y).Buffer(x).Float32(0.75f).UInt64(N)
            .CopyOut(y, 0, region, yOut, 4 * N));
        Report(output, "axpy", region.AsSpan<float>(yOut, N), Axpy(0.75f));

        // 5. The three gemvs, one warp per row; OUT zeroed first, so that a launch that did nothing shows.
        var gemv = Gemv();
        foreach (var (name, weights) in new[] { ("gemv_f32", w32), ("gemv_f16", w16), ("gemv_bf16", wb16) })
        {
            await gpu.SubmitAsync(new StepBuilder()
                .Launch(fill, 1, Block).Buffer(result).Float32(0f).UInt64(Rows)
                .Launch(await gpu.GetBuiltinAsync(name), GemvBlocks, Block).Buffer(weights).Buffer(v).Buffer(result).UInt32(Rows).UInt32(Cols)
                .CopyOut(result, 0, region, outOut, 4 * Rows));
            Report(output, name, region.AsSpan<float>(outOut, Rows), gemv);
        }

        // 6. fill and checksum.
        await gpu.SubmitAsync(new StepBuilder()
            .Launch(fill, Blocks, Block).Buffer(x).Float32(1.5f).UInt64(N)
            .Launch(await gpu.GetBuiltinAsync("checksum"), Blocks, Block).Buffer(x).UInt64(4 * N).Buffer(sum)
            .CopyOut(x, 0, region, xOut, 4 * N).CopyOut(sum, 0, region, sumOut, 8));
        Report(output, "fill", region.AsSpan<float>(xOut, N), [.. Enumerable.Repeat(1.5f, N)]);
        var checksum = region.AsSpan<ulong>(sumOut, 1)[0];
        var expectedChecksum = Checksum(region.AsSpan(xOut, 4 * N));
        ScenarioFailure.Unless(checksum == expectedChecksum, "checksum", () => $"{checksum:x16}, expected {expectedChecksum:x16}");
        output.WriteLine($"checksum {checksum:x16}");

        // 7. spin: its times are ordered.
        var spun = await gpu.SubmitAsync(new StepBuilder().Launch(await gpu.GetBuiltinAsync("spin"), 1, 1).UInt64(100));
        ScenarioFailure.Unless(spun.QueuedAtNs <= spun.StartedAtNs && spun.StartedAtNs <= spun.EndedAtNs, "spin", () => spun.ToString());
        output.WriteLine("spin ordered");

        // 8. A model from a safetensors file of our own, its tensor a gemv's weights.
        var file = Path.Combine(Path.GetTempPath(), $"gpumux-scenario-{Environment.ProcessId}.safetensors");
        WriteSafetensors(file, "w", W, Rows, Cols);
        ClientModel model;
        try
        {
            model = await gpu.RegisterModelAsync(file, "scenario");
        }
        finally
        {
            File.Delete(file);
        }
        await using (model)
        {
            var tensor = await gpu.GetTensorAsync(model, "w");
            await gpu.SubmitAsync(new StepBuilder()
                .UseModel(model)
                .Launch(fill, 1, Block).Buffer(result).Float32(0f).UInt64(Rows)
                .Launch(await gpu.GetBuiltinAsync("gemv_f32"), GemvBlocks, Block).Tensor(tensor).Buffer(v).Buffer(result).UInt32(Rows).UInt32(Cols)
                .CopyOut(result, 0, region, outOut, 4 * Rows));
            Report(output, "model_gemv", region.AsSpan<float>(outOut, Rows), gemv);
        }

        // 9. An expected error, and the session goes on.
        try
        {
            await gpu.GetBuiltinAsync("no_such_kernel");
            throw new ScenarioFailure("error", "GetFunction(0, no_such_kernel) succeeded");
        }
        catch (UnknownFunctionException)
        {
            await gpu.SubmitAsync(new StepBuilder().Launch(fill, Blocks, Block).Buffer(x).Float32(2f).UInt64(N));
            output.WriteLine("error UnknownFunction");
        }

        // 10. The lease goes back; the session closes as the client is disposed.
        await gpu.ReleaseLeaseAsync();
    }

    /// <summary>Checks the result bit for bit, then prints the sha256 of its bytes.</summary>
    private static void Report(TextWriter output, string name, ReadOnlySpan<float> got, ReadOnlySpan<float> expected)
    {
        ScenarioFailure.UnlessEqual(got, expected, name);
        output.WriteLine($"{name} {Sha256(MemoryMarshal.AsBytes(got))}");
    }

    /// <summary>A safetensors file of one F32 tensor: the header's length, its JSON, the data.</summary>
    private static void WriteSafetensors(string path, string name, float[] values, int rows, int cols)
    {
        var header = Encoding.UTF8.GetBytes($"{{\"{name}\":{{\"dtype\":\"F32\",\"shape\":[{rows},{cols}],\"data_offsets\":[0,{values.Length * sizeof(float)}]}}}}");
        using var stream = File.Create(path);
        Span<byte> length = stackalloc byte[sizeof(ulong)];
        BinaryPrimitives.WriteUInt64LittleEndian(length, (ulong)header.Length);
        stream.Write(length);
        stream.Write(header);
        stream.Write(MemoryMarshal.AsBytes(values.AsSpan()));
    }

    /// <summary>This process's uid, as the daemon sees it through the socket's peer credentials.</summary>
    private static uint OwnUid() =>
        File.ReadLines("/proc/self/status")
            .Where(line => line.StartsWith("Uid:", StringComparison.Ordinal))
            .Select(line => uint.Parse(line.Split('\t', StringSplitOptions.RemoveEmptyEntries)[1], System.Globalization.CultureInfo.InvariantCulture))
            .First();

    /// <summary>Parts of the region, one after another, each starting on 256 bytes.</summary>
    private sealed class RegionLayout
    {
        private ulong _next;

        public ulong Take(int bytes)
        {
            var start = _next;
            _next += ((ulong)bytes + 255) / 256 * 256;
            return start;
        }
    }
}
