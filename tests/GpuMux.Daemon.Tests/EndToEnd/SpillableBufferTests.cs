using System.Globalization;
using GpuMux.Client;
using GpuMux.Gpu.Kernels;
using GpuMux.Protocol;
using GpuMux.Protocol.Messages;

namespace GpuMux.Daemon.Tests.EndToEnd;

/// <summary>
/// Spillable buffers through the daemon, on a device pool of a few pages: the device fills past
/// its size with buffers of distinct bytes, which leave it for pinned host memory and come back,
/// byte for byte, before the steps that name them.
/// </summary>
public sealed class SpillableBufferTests : IAsyncLifetime
{
    private const ulong Page = 2UL << 20;
    private const int PoolPages = 6;
    private const int Rows = 256;
    private const int Cols = 4096;

    private readonly DirectoryInfo _files = Directory.CreateTempSubdirectory("gmx-spill-");
    private TestDaemon _daemon = null!;
    private GpuMuxClient _client = null!;

    private static CancellationToken Cancellation => TestContext.Current.CancellationToken;

    public async ValueTask InitializeAsync()
    {
        _daemon = await TestDaemon.StartAsync(
            $"--Memory:DevicePoolBytes={(PoolPages * Page).ToString(CultureInfo.InvariantCulture)}",
            "--Memory:PinnedPoolBytes=67108864");
        _client = await _daemon.ConnectAsync("spill");
    }

    public async ValueTask DisposeAsync()
    {
        await _client.DisposeAsync();
        await _daemon.DisposeAsync();
        _files.Delete(recursive: true);
    }

    [Fact]
    public async Task Buffers_filling_the_device_past_its_size_keep_every_byte_through_spills_and_restores()
    {
        const int count = PoolPages + 4;
        await using var region = await _client.CreateRegionAsync(2 * Page, Cancellation);
        var buffers = new List<DeviceBuffer>();
        for (var i = 0; i < count; i++)
        {
            buffers.Add(await _client.AllocateBufferAsync(Page, spillable: true, Cancellation));
        }
        var step = new StepBuilder();
        for (var i = 0; i < count; i++)
        {
            Fill(region, Page, i, 0);
            await _client.SubmitAsync(step.Clear().CopyIn(region, Page, buffers[i], 0, Page), Cancellation);
        }

        for (var round = 1; round <= 2; round++)
        {
            for (var i = 0; i < count; i++)
            {
                Fill(region, Page, i, round);
                await _client.SubmitAsync(step.Clear().CopyOut(buffers[i], 0, region, 0, Page).CopyIn(region, Page, buffers[i], 0, Page), Cancellation);
                AssertFilled(region, 0, i, round - 1);
            }
        }

        var spills = (await _client.ListModelsAsync(Cancellation)).Spills!.Value;
        Assert.True(spills.Spills >= (ulong)(2 * count), $"{spills.Spills} spills");
        Assert.True(spills.Restores >= (ulong)(2 * count) - PoolPages, $"{spills.Restores} restores");
        Assert.Equal(spills.Spills - spills.Restores, (ulong)spills.SpilledBuffers);
        Assert.Equal(spills.SpilledBuffers * Page, spills.SpilledBytes);
        var tenant = Assert.Single((await _client.GetTenantsAsync(Cancellation)).Tenants);
        Assert.True(tenant.Usage.Swaps >= spills.Spills + spills.Restores);
        Assert.Equal(count * Page, tenant.DeviceBytes);
    }

    [Fact]
    public async Task Spills_and_restores_racing_models_swap_ins_keep_both_correct()
    {
        var weights = Enumerable.Range(0, 2).Select(seed => Workloads.RandomFloats(new Random(seed), Rows * Cols)).ToArray();
        var models = new List<ClientModel>();
        for (var m = 0; m < weights.Length; m++)
        {
            models.Add(await _client.RegisterModelAsync(WriteModel($"m{m}", weights[m]), $"m{m}", cancellationToken: Cancellation));
        }
        await using var region = await _client.CreateRegionAsync((Cols + Rows) * sizeof(float) + (2 * Page), Cancellation);
        var kvOffset = (ulong)(Cols + Rows) * sizeof(float);
        await using var x = await _client.AllocateBufferAsync(Cols * sizeof(float), spillable: true, Cancellation);
        await using var y = await _client.AllocateBufferAsync(Rows * sizeof(float), spillable: true, Cancellation);
        var caches = new List<DeviceBuffer>();
        for (var i = 0; i < 4; i++)
        {
            caches.Add(await _client.AllocateBufferAsync(Page, spillable: true, Cancellation));
        }
        var gemv = await _client.GetBuiltinAsync("gemv_f32", Cancellation);
        var random = new Random(7);
        var step = new StepBuilder();
        var rounds = new int[caches.Count];
        for (var turn = 0; turn < 12; turn++)
        {
            var m = turn % 2;
            var cache = turn * 3 % caches.Count;
            var w = await _client.GetTensorAsync(models[m], "w", Cancellation);
            var xs = Workloads.RandomFloats(random, Cols);
            xs.CopyTo(region.AsSpan<float>(0, Cols));
            Fill(region, kvOffset + Page, cache, rounds[cache] + 1);
            var expected = new float[Rows];
            KernelReference.GemvF32(weights[m], xs, expected, Rows, Cols);

            step.Clear()
                .UseModel(models[m])
                .CopyOut(caches[cache], 0, region, kvOffset, Page)
                .CopyIn(region, kvOffset + Page, caches[cache], 0, Page)
                .CopyIn(region, 0, x, 0, Cols * sizeof(float))
                .Launch(gemv, Rows * 32 / 256, 256).Tensor(w).Buffer(x).Buffer(y).UInt32(Rows).UInt32(Cols)
                .CopyOut(y, 0, region, Cols * sizeof(float), Rows * sizeof(float));
            await _client.SubmitAsync(step, Cancellation);

            Assert.Equal(expected, region.AsSpan<float>(Cols * sizeof(float), Rows).ToArray());
            if (rounds[cache] > 0)
            {
                AssertFilled(region, kvOffset, cache, rounds[cache]);
            }
            rounds[cache]++;
        }

        var list = await _client.ListModelsAsync(Cancellation);
        Assert.True(list.Spills!.Value.Restores > 0);
        Assert.All(list.Models, model => Assert.True(model.SwapCount > 1));
    }

    [Fact]
    public async Task A_buffer_a_step_on_the_device_names_is_not_spilled_until_the_step_is_done()
    {
        await using var region = await _client.CreateRegionAsync(Page, Cancellation);
        var held = new List<DeviceBuffer>();
        for (var i = 0; i < PoolPages; i++)
        {
            held.Add(await _client.AllocateBufferAsync(Page, spillable: i == 0, Cancellation));
        }
        Fill(region, 0, 0, 1);
        await _client.SubmitAsync(new StepBuilder().CopyIn(region, 0, held[0], 0, Page), Cancellation);
        var spin = await _client.GetBuiltinAsync("spin", Cancellation);
        region.AsSpan(0, (int)Page).Clear();

        var running = _client.SubmitAsync(new StepBuilder().Launch(spin, 1, 32).UInt64(300_000).CopyOut(held[0], 0, region, 0, Page), Cancellation).AsTask();
        await Assert.ThrowsAsync<DeviceOutOfMemoryException>(() => _client.AllocateBufferAsync(Page, Cancellation));
        await running;

        AssertFilled(region, 0, 0, 1);
        Assert.Equal(0UL, (await _client.ListModelsAsync(Cancellation)).Spills!.Value.Spills);
        await using var more = await _client.AllocateBufferAsync(Page, Cancellation);
        Assert.Equal(1UL, (await _client.ListModelsAsync(Cancellation)).Spills!.Value.Spills);
    }

    [Fact]
    public async Task Buffers_not_allocated_spillable_are_never_spilled()
    {
        for (var i = 0; i < PoolPages; i++)
        {
            await _client.AllocateBufferAsync(Page, Cancellation);
        }

        await Assert.ThrowsAsync<DeviceOutOfMemoryException>(() => _client.AllocateBufferAsync(Page, spillable: true, Cancellation));

        Assert.Equal(new SpillSummary(0, 0, 0, 0, 0, 0), (await _client.ListModelsAsync(Cancellation)).Spills);
    }

    [Fact]
    public async Task A_session_that_ends_with_buffers_spilled_gives_their_host_memory_back()
    {
        var before = await _client.ListModelsAsync(Cancellation);
        await using (var owner = await _daemon.ConnectAsync("owner"))
        {
            for (var i = 0; i < PoolPages + 3; i++)
            {
                await owner.AllocateBufferAsync(Page, spillable: true, Cancellation);
            }
            var during = await _client.ListModelsAsync(Cancellation);
            Assert.Equal(3u, during.Spills!.Value.SpilledBuffers);
            Assert.True(during.PinnedPoolFreeBytes <= before.PinnedPoolFreeBytes - (3 * Page));
        }

        var after = await _client.ListModelsAsync(Cancellation);
        for (var tries = 0; tries < 500 && (after.Spills!.Value.SpilledBuffers != 0 || after.PinnedPoolFreeBytes != before.PinnedPoolFreeBytes); tries++)
        {
            await Task.Delay(10, Cancellation);
            after = await _client.ListModelsAsync(Cancellation);
        }
        Assert.Equal((0u, 0UL), (after.Spills!.Value.SpilledBuffers, after.Spills.Value.SpilledBytes));
        Assert.Equal(before.PinnedPoolFreeBytes, after.PinnedPoolFreeBytes);
        Assert.Equal(before.DevicePoolFreeBytes, after.DevicePoolFreeBytes);
    }

    [Fact]
    public async Task A_buffer_the_pinned_pool_has_no_room_for_stays_on_the_device_with_its_bytes()
    {
        await using var daemon = await TestDaemon.StartAsync(
            $"--Memory:DevicePoolBytes={(2 * Page).ToString(CultureInfo.InvariantCulture)}",
            $"--Memory:PinnedPoolBytes={(Page + (Page / 2)).ToString(CultureInfo.InvariantCulture)}");
        await using var client = await daemon.ConnectAsync("small-host");
        await using var region = await client.CreateRegionAsync(Page, Cancellation);
        var buffers = new List<DeviceBuffer>();
        for (var i = 0; i < 2; i++)
        {
            buffers.Add(await client.AllocateBufferAsync(Page, spillable: true, Cancellation));
            Fill(region, 0, i, 1);
            await client.SubmitAsync(new StepBuilder().CopyIn(region, 0, buffers[i], 0, Page), Cancellation);
        }
        buffers.Add(await client.AllocateBufferAsync(Page, spillable: true, Cancellation));

        await Assert.ThrowsAsync<DeviceOutOfMemoryException>(() => client.AllocateBufferAsync(Page, spillable: true, Cancellation));

        Assert.Equal(1u, (await client.ListModelsAsync(Cancellation)).Spills!.Value.SpilledBuffers);
        await buffers[2].DisposeAsync();
        for (var i = 0; i < 2; i++)
        {
            await client.SubmitAsync(new StepBuilder().CopyOut(buffers[i], 0, region, 0, Page), Cancellation);
            AssertFilled(region, 0, i, 1);
        }
    }

    [Fact]
    public async Task After_a_device_reset_a_buffer_that_was_spilled_reads_as_zero_like_the_others()
    {
        await using var daemon = await TestDaemon.StartAsync(
            $"--Memory:DevicePoolBytes={(2 * Page).ToString(CultureInfo.InvariantCulture)}",
            "--Memory:PinnedPoolBytes=67108864",
            TestDaemon.TrustingModules);
        await using var client = await daemon.ConnectAsync("reset");
        await using var region = await client.CreateRegionAsync(Page, Cancellation);
        var spilled = await client.AllocateBufferAsync(Page, spillable: true, Cancellation);
        Fill(region, 0, 0, 1);
        await client.SubmitAsync(new StepBuilder().CopyIn(region, 0, spilled, 0, Page), Cancellation);
        var resident = await client.AllocateBufferAsync(Page, spillable: true, Cancellation);
        var target = await client.AllocateBufferAsync(Page, spillable: true, Cancellation);
        Assert.Equal(1u, (await client.ListModelsAsync(Cancellation)).Spills!.Value.SpilledBuffers);
        var fill = await RunawayFill.LoadAsync(client);

        await Assert.ThrowsAnyAsync<GpuMuxException>(() => client.SubmitAsync(new StepBuilder().Runaway(fill, target), Cancellation).AsTask());

        foreach (var buffer in new[] { spilled, resident })
        {
            Fill(region, 0, 0, 2);
            await SubmitRetryingAsync(client, new StepBuilder().CopyOut(buffer, 0, region, 0, Page));
            Assert.True(region.AsSpan(0, (int)Page).IndexOfAnyExcept((byte)0) < 0);
        }
    }

    [Fact]
    public async Task A_1_5_client_allocates_a_buffer_with_the_size_alone()
    {
        await using var connection = await _daemon.ConnectRawAsync();
        Assert.Equal((ushort)5, await RawFrames.HelloAsync(connection, minor: 5));

        await connection.SendAsync(RawFrames.Encode(MessageType.AllocateBuffer, 2, new SizeMessage(4096)), Cancellation);

        var reply = await connection.ReadFrameAsync(Cancellation);
        Assert.Equal((ushort)MessageType.BufferAllocated, reply!.Header.Type);
        Assert.NotEqual(0u, Message.Decode<HandleMessage>(reply.Payload.Span).Handle);
    }

    [Theory]
    [InlineData(ProtocolVersion.Minor, 2u)]
    [InlineData(ProtocolVersion.Minor, 0x8000_0001u)]
    [InlineData((ushort)5, 1u)]
    public async Task Flags_the_session_s_protocol_does_not_know_are_refused_as_invalid(ushort minor, uint flags)
    {
        await using var connection = await _daemon.ConnectRawAsync();
        await RawFrames.HelloAsync(connection, minor);

        await connection.SendAsync(RawFrames.Encode(MessageType.AllocateBuffer, 2, new AllocateBuffer(4096, (BufferFlags)flags)), Cancellation);

        var (code, text, requestId) = await RawFrames.ReadErrorAsync(connection);
        Assert.Equal((ErrorCode.InvalidArgument, 2u), (code, requestId));
        Assert.Contains("flags", text);
    }

    /// <summary>Submits until the step is not refused for the reset (the first step after it is told its buffers read as zero).</summary>
    private static async Task SubmitRetryingAsync(GpuMuxClient client, StepBuilder step)
    {
        for (var tries = 0; ; tries++)
        {
            try
            {
                await client.SubmitAsync(step, Cancellation);
                return;
            }
            catch (GpuMuxException e) when (e.IsRetryable && tries < 10)
            {
            }
        }
    }

    /// <summary>Bytes that say which buffer and which round wrote them, so a buffer restored from another's copy, or a stale one, shows.</summary>
    private static void Fill(SharedRegion region, ulong offset, int buffer, int round)
    {
        var words = region.AsSpan<uint>(offset, (int)(Page / sizeof(uint)));
        for (var i = 0; i < words.Length; i++)
        {
            words[i] = Word(buffer, round, i);
        }
    }

    private static void AssertFilled(SharedRegion region, ulong offset, int buffer, int round)
    {
        var words = region.AsSpan<uint>(offset, (int)(Page / sizeof(uint)));
        for (var i = 0; i < words.Length; i++)
        {
            if (words[i] != Word(buffer, round, i))
            {
                Assert.Fail($"buffer {buffer}, round {round}: word {i} is 0x{words[i]:x8}, not 0x{Word(buffer, round, i):x8}");
            }
        }
    }

    private static uint Word(int buffer, int round, int index) => ((uint)buffer << 28) ^ ((uint)round << 24) ^ (uint)index * 2654435761u;

    private string WriteModel(string name, float[] weights) => SafetensorsFile.Write(_files.FullName, name, ("w", weights));
}
