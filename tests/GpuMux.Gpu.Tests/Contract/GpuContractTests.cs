using System.Runtime.InteropServices;
using GpuMux.Gpu.Kernels;
using GpuMux.Gpu.Tests.Kernels;

namespace GpuMux.Gpu.Tests.Contract;

/// <summary>
/// What every backend promises. Runs against Sim always and against CUDA where a GPU is present;
/// a test that passes on one and fails on the other is a bug in the simulator or the bindings.
/// Each test opens its context in its own body, on its own thread, as the contract requires.
/// </summary>
public abstract partial class GpuContractTests
{
    private const ulong MiB = 1UL << 20;

    protected abstract GpuBackend Backend { get; }

    [Fact]
    public void Devices_are_enumerated_with_their_properties()
    {
        var devices = Backend.Devices;

        Assert.NotEmpty(devices);
        for (var i = 0; i < devices.Count; i++)
        {
            var device = devices[i];
            Assert.Equal(i, device.Ordinal);
            Assert.False(string.IsNullOrWhiteSpace(device.Name));
            Assert.False(string.IsNullOrWhiteSpace(device.PciBusId));
            Assert.Matches("^GPU-[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$", device.Uuid);
            Assert.True(device.ComputeCapability.Major >= 5, $"compute capability {device.ComputeCapability}");
            Assert.True(device.TotalMemoryBytes >= 256 * MiB);
            Assert.True(device.MultiprocessorCount > 0);
            Assert.True(device.MaxThreadsPerBlock >= 1024);
            Assert.Equal(Backend.Kind == GpuBackendKind.Sim, device.IsSimulated);
        }
    }

    [Fact]
    public void Memory_info_reports_free_memory_within_the_total_and_sees_an_allocation()
    {
        using var gpu = new TestGpu(Backend);
        var before = gpu.Context.GetMemoryInfo();

        using var allocation = gpu.Context.Allocate(64 * MiB);
        var during = gpu.Context.GetMemoryInfo();

        Assert.InRange(before.FreeBytes, 1UL, before.TotalBytes);
        Assert.True(during.FreeBytes <= before.FreeBytes - 64 * MiB, $"free went from {before.FreeBytes} to {during.FreeBytes}");
    }

    [Fact]
    public void Streams_are_created_at_every_priority_in_the_range_and_refused_outside_it()
    {
        using var context = Backend.CreateContext(0);
        var range = context.StreamPriorities;

        Assert.True(range.Greatest <= range.Least);
        for (var priority = range.Greatest; priority <= range.Least; priority++)
        {
            using var stream = context.CreateStream(priority);
            Assert.Equal(priority, stream.Priority);
            Assert.True(stream.IsIdle());
        }
        Assert.Throws<ArgumentOutOfRangeException>(() => context.CreateStream(range.Greatest - 1));
        Assert.Throws<ArgumentOutOfRangeException>(() => context.CreateStream(range.Least + 1));
    }

    [Fact]
    public void Random_data_round_trips_through_device_memory()
    {
        using var gpu = new TestGpu(Backend);
        var random = new Random(1);
        foreach (var count in TestData.AwkwardCounts)
        {
            var data = TestData.Bytes(random, count);
            using var first = gpu.Upload<byte>(data);
            using var second = gpu.Context.Allocate((ulong)count + 7);
            gpu.Stream.CopyOnDevice(second.Pointer + 7, first.Pointer, (ulong)count);

            Assert.Equal(data, gpu.Download<byte>(second.Pointer + 7, count));
        }
    }

    [Fact]
    public void Copies_through_pinned_memory_arrive_intact()
    {
        using var gpu = new TestGpu(Backend);
        const int count = 3 * 1024 * 1024 + 5;
        using var pinned = gpu.Context.AllocatePinned(count);
        using var device = gpu.Context.Allocate(count);
        var data = TestData.Bytes(new Random(2), count);
        data.CopyTo(pinned.AsSpan<byte>());

        gpu.Stream.CopyToDevice(device.Pointer, pinned.Pointer, count);
        gpu.Stream.Synchronize();
        pinned.AsSpan<byte>().Clear();
        gpu.Stream.CopyToHost(pinned.Pointer, device.Pointer, count);
        gpu.Stream.Synchronize();

        Assert.True(pinned.AsSpan<byte>().SequenceEqual(data));
    }

    [Fact]
    public unsafe void Registered_host_memory_is_copied_from_and_cannot_be_registered_twice()
    {
        using var gpu = new TestGpu(Backend);
        const int count = 1 << 20;
        var host = (byte*)NativeMemory.AlignedAlloc(count, 4096);
        try
        {
            var data = TestData.Bytes(new Random(3), count);
            data.CopyTo(new Span<byte>(host, count));
            using var device = gpu.Context.Allocate(count);
            using (gpu.Context.RegisterHostMemory((nint)host, count))
            {
                var twice = Assert.ThrowsAny<GpuException>(() => gpu.Context.RegisterHostMemory((nint)host, count));
                Assert.Equal(GpuStatus.HostMemoryAlreadyRegistered, twice.Status);

                gpu.Stream.CopyToDevice(device.Pointer, (nint)host, count);
                gpu.Stream.Synchronize();
            }

            Assert.Equal(data, gpu.Download<byte>(device.Pointer, count));
        }
        finally
        {
            NativeMemory.AlignedFree(host);
        }
    }

    [Fact]
    public void Memsets_set_bytes_and_words()
    {
        using var gpu = new TestGpu(Backend);
        using var buffer = gpu.Context.Allocate(4099);

        gpu.Stream.Memset8(buffer.Pointer, 0xAB, 4099);
        Assert.All(gpu.Download<byte>(buffer.Pointer, 4099), b => Assert.Equal(0xAB, b));

        gpu.Stream.Memset32(buffer.Pointer + 4, 0xDEADBEEF, 1000);
        var words = gpu.Download<uint>(buffer.Pointer, 1002);
        Assert.Equal(0xABABABABu, words[0]);
        Assert.All(words[1..1001], w => Assert.Equal(0xDEADBEEFu, w));
        Assert.Equal(0xABABABABu, words[1001]);
    }

    [Fact]
    public void Fill_matches_the_reference_on_awkward_sizes()
    {
        using var gpu = new TestGpu(Backend);
        foreach (var count in TestData.AwkwardCounts)
        {
            using var buffer = gpu.Context.Allocate((ulong)count * sizeof(float) + 8);
            gpu.Stream.Memset32(buffer.Pointer, 0x7FC00000, (ulong)count + 2);

            gpu.Kernels.Fill(gpu.Stream, buffer.Pointer + 4, 2.5f, (ulong)count);

            var result = gpu.Download<float>(buffer.Pointer, count + 2);
            var expected = new float[count];
            KernelReference.Fill(expected, 2.5f);
            Assert.Equal(expected, result[1..^1]);
            Assert.True(float.IsNaN(result[0]) && float.IsNaN(result[^1]), "fill wrote outside its range");
        }
    }

    [Fact]
    public void Axpy_matches_the_reference_bit_for_bit_on_awkward_sizes()
    {
        using var gpu = new TestGpu(Backend);
        var random = new Random(4);
        foreach (var count in TestData.AwkwardCounts)
        {
            var x = TestData.Floats(random, count, 100f);
            var y = TestData.Floats(random, count, 100f);
            using var deviceX = gpu.Upload<float>(x);
            using var deviceY = gpu.Upload<float>(y);

            gpu.Kernels.Axpy(gpu.Stream, deviceY.Pointer, deviceX.Pointer, -1.75f, (ulong)count);

            KernelReference.Axpy(y, x, -1.75f);
            Assert.Equal(y, gpu.Download<float>(deviceY.Pointer, count));
        }
    }

    [Theory]
    [InlineData(WeightType.F32)]
    [InlineData(WeightType.F16)]
    [InlineData(WeightType.Bf16)]
    public void Gemv_matches_the_reference_on_awkward_shapes(WeightType type)
    {
        using var gpu = new TestGpu(Backend);
        var random = new Random(5 + (int)type);
        foreach (var (rows, cols) in new[] { (1, 1), (37, 1003), (5, 7), (300, 64), (4, 33), (1029, 515) })
        {
            var x = TestData.Floats(random, cols);
            var weights = TestData.Floats(random, rows * cols);
            var encoded = KernelReference.EncodeWeights(type, weights);
            var expected = new float[rows];
            KernelReference.Gemv(type, encoded, x, expected, rows, cols);
            using var deviceWeights = gpu.Upload<byte>(encoded);
            using var deviceX = gpu.Upload<float>(x);
            using var deviceY = gpu.Context.Allocate((ulong)rows * sizeof(float));

            gpu.Kernels.Gemv(gpu.Stream, type, deviceWeights.Pointer, deviceX.Pointer, deviceY.Pointer, (uint)rows, (uint)cols);

            var result = gpu.Download<float>(deviceY.Pointer, rows);
            for (var r = 0; r < rows; r++)
            {
                Assert.True(Math.Abs(result[r] - expected[r]) <= 1e-5f * (1 + Math.Abs(expected[r])), $"{type} {rows}x{cols} row {r}: {result[r]} vs {expected[r]}");
            }
        }
    }

    [Theory]
    [InlineData(WeightType.F32)]
    [InlineData(WeightType.F16)]
    [InlineData(WeightType.Bf16)]
    public void Matmul_matches_the_reference_bit_for_bit_on_awkward_shapes(WeightType type)
    {
        using var gpu = new TestGpu(Backend);
        var random = new Random(50 + (int)type);
        // Tokens below, at and past the kernel's tile of 8, a decode batch of 64 and a short prefill.
        foreach (var (rows, cols, tokens) in new[] { (1, 1, 1), (37, 1003, 3), (5, 7, 8), (300, 64, 9), (33, 515, 64), (64, 96, 131) })
        {
            var x = TestData.Floats(random, tokens * cols);
            var encoded = KernelReference.EncodeWeights(type, TestData.Floats(random, rows * cols));
            var expected = new float[tokens * rows];
            KernelReference.Matmul(type, encoded, x, expected, rows, cols, tokens);
            using var deviceWeights = gpu.Upload<byte>(encoded);
            using var deviceX = gpu.Upload<float>(x);
            using var deviceY = gpu.Context.Allocate((ulong)(tokens * rows) * sizeof(float));

            gpu.Kernels.Matmul(gpu.Stream, type, deviceWeights.Pointer, deviceX.Pointer, deviceY.Pointer, (uint)rows, (uint)cols, (uint)tokens);

            Assert.Equal(expected, gpu.Download<float>(deviceY.Pointer, tokens * rows));
        }
    }

    [Theory]
    [InlineData(7u, 0u, 64u)] // a prefill
    [InlineData(1u, 300u, 64u)] // a decode step far into the cache
    [InlineData(3u, 20u, 300u)] // a head wider than one pass of 256 dimensions
    public void Paged_attention_matches_the_reference_within_expf_s_error(uint tokens, uint start, uint headDim)
    {
        using var gpu = new TestGpu(Backend);
        const uint pageTokens = 16;
        var positions = (int)(start + tokens);
        var tablePages = (uint)(positions + pageTokens - 1) / pageTokens;
        var shape = new PagedAttentionShape(tokens, 8, 2, headDim, pageTokens, tablePages + 2, tablePages, start, 1 / MathF.Sqrt(headDim));
        var attention = new PagedAttentionCase(new Random(60 + (int)start), shape, positions, sparePages: 2);
        using var q = gpu.Upload<float>(attention.Queries);
        using var kCache = gpu.Upload<float>(attention.KCache);
        using var vCache = gpu.Upload<float>(attention.VCache);
        using var table = gpu.Upload<uint>(attention.PageTable);
        using var output = gpu.Context.Allocate((ulong)shape.QueryFloats * sizeof(float));

        gpu.Kernels.AttentionPaged(gpu.Stream, q.Pointer, kCache.Pointer, vCache.Pointer, table.Pointer, output.Pointer, shape);

        var expected = Array.ConvertAll(attention.Reference(), value => (double)value);
        PagedAttentionCase.AssertClose(expected, gpu.Download<float>(output.Pointer, (int)shape.QueryFloats), $"{tokens} tokens from {start}");
    }

    [Fact]
    public void Kv_append_of_a_prefill_then_a_decode_step_matches_the_reference_bit_for_bit()
    {
        using var gpu = new TestGpu(Backend);
        var shape = new PagedAttentionShape(1, 8, 2, 72, PageTokens: 16, Pages: 7, TablePages: 5, StartPosition: 70, Scale: 1);
        var attention = new PagedAttentionCase(new Random(70), shape, positions: 71, sparePages: 2);
        var empty = Enumerable.Repeat(float.NaN, attention.KCache.Length).ToArray();
        using var kCache = gpu.Upload<float>(empty);
        using var vCache = gpu.Upload<float>(empty);
        using var table = gpu.Upload<uint>(attention.PageTable);

        foreach (var (start, tokens) in new[] { (0u, 70u), (70u, 1u) })
        {
            using var kNew = gpu.Upload<float>(attention.Rows(attention.Keys, start, tokens));
            using var vNew = gpu.Upload<float>(attention.Rows(attention.Values, start, tokens));
            gpu.Kernels.KvAppend(gpu.Stream, kNew.Pointer, vNew.Pointer, kCache.Pointer, vCache.Pointer, table.Pointer, attention.Append(start, tokens));
            // The rows are freed at the end of the iteration: the launch must have read them by then.
            gpu.Stream.Synchronize();
        }

        Assert.Equal(attention.KCache, gpu.Download<float>(kCache.Pointer, empty.Length));
        Assert.Equal(attention.VCache, gpu.Download<float>(vCache.Pointer, empty.Length));
    }

    [Fact]
    public void Checksum_matches_the_reference_and_sees_a_single_flipped_bit()
    {
        using var gpu = new TestGpu(Backend);
        var random = new Random(6);
        using var result = gpu.Context.Allocate(sizeof(ulong));
        foreach (var count in TestData.AwkwardCounts.Append(0).Append(4 * 1024 * 1024 + 2))
        {
            var data = TestData.Bytes(random, Math.Max(count, 1));
            using var device = gpu.Upload<byte>(data);

            gpu.Kernels.Checksum(gpu.Stream, device.Pointer, (ulong)count, result.Pointer);
            Assert.Equal(KernelReference.Checksum(data.AsSpan(0, count)), gpu.Download<ulong>(result.Pointer, 1)[0]);

            if (count > 0)
            {
                data[count / 2] ^= 0x10;
                gpu.Stream.Upload<byte>(device.Pointer, data);
                gpu.Kernels.Checksum(gpu.Stream, device.Pointer, (ulong)count, result.Pointer);
                Assert.Equal(KernelReference.Checksum(data.AsSpan(0, count)), gpu.Download<ulong>(result.Pointer, 1)[0]);
            }
        }
    }

    [Fact]
    public void An_event_orders_work_across_two_streams()
    {
        using var gpu = new TestGpu(Backend);
        using var consumer = gpu.Context.CreateStream(gpu.Context.StreamPriorities.Greatest);
        using var produced = gpu.Context.CreateEvent();
        using var start = gpu.Context.CreateEvent();
        const int count = 100_003;
        using var buffer = gpu.Context.Allocate(count * sizeof(float));
        using var output = gpu.Context.Allocate(count * sizeof(float));
        gpu.Kernels.Fill(gpu.Stream, output.Pointer, 1f, count);
        gpu.Stream.Synchronize();

        // The producer is slow on purpose: without the wait, the consumer would read the buffer first.
        gpu.Stream.Record(start);
        gpu.Kernels.Spin(gpu.Stream, TimeSpan.FromMilliseconds(50));
        gpu.Kernels.Fill(gpu.Stream, buffer.Pointer, 3f, count);
        gpu.Stream.Record(produced);
        consumer.Wait(produced);
        gpu.Kernels.Axpy(consumer, output.Pointer, buffer.Pointer, 2f, count);
        consumer.Synchronize();

        Assert.True(produced.IsComplete());
        Assert.All(gpu.Download<float>(output.Pointer, count), v => Assert.Equal(7f, v));
        Assert.True(GpuEvent.ElapsedMilliseconds(start, produced) > 0);
    }

    [Fact]
    public void An_event_never_recorded_is_complete_but_has_no_time()
    {
        using var context = Backend.CreateContext(0);
        using var first = context.CreateEvent();
        using var second = context.CreateEvent();

        Assert.True(first.IsComplete());
        first.Synchronize();
        var error = Assert.ThrowsAny<GpuException>(() => GpuEvent.ElapsedMilliseconds(first, second));
        Assert.Equal(GpuStatus.InvalidHandle, error.Status);
    }

    [Fact]
    public void Running_out_of_device_memory_is_a_typed_error_and_later_work_succeeds()
    {
        using var gpu = new TestGpu(Backend);
        var tooMuch = gpu.Context.Device.TotalMemoryBytes + (1UL << 30);

        Assert.Equal(GpuStatus.OutOfMemory, gpu.Context.TryAllocate(tooMuch, out var none));
        Assert.Null(none);
        var error = Assert.ThrowsAny<GpuException>(() => gpu.Context.Allocate(tooMuch));
        Assert.Equal(GpuStatus.OutOfMemory, error.Status);
        Assert.Equal(GpuStatus.OutOfMemory, gpu.Context.TryCreatePhysicalMemory(RoundUp(tooMuch, gpu.Context.AllocationGranularity), out _));

        var data = TestData.Bytes(new Random(7), 4096);
        using var buffer = gpu.Upload<byte>(data);
        Assert.Equal(data, gpu.Download<byte>(buffer.Pointer, data.Length));
    }

    [Fact]
    public void A_compile_error_surfaces_with_the_compiler_log()
    {
        using var context = Backend.CreateContext(0);
        var source = new KernelSource("broken.cu", "extern \"C\" __global__ void fill_f32(float* x, float v, unsigned long long n)\n{\n    x[0] = v;\n");

        var error = Assert.Throws<CompileException>(() => context.Compile(source));

        Assert.Equal(GpuStatus.CompileFailed, error.Status);
        Assert.Equal("broken.cu", error.SourceName);
        Assert.Contains("broken.cu", error.Log);
        Assert.Contains("error", error.Log);
    }

    [Theory]
    [InlineData("#include \"/etc/passwd\"")]
    [InlineData("#include \"../../../../../../etc/passwd\"")]
    [InlineData("#include <stdio.h>")]
    public void A_source_that_includes_anything_fails_to_compile_and_its_log_holds_nothing_of_the_file(string include)
    {
        using var context = Backend.CreateContext(0);
        var source = new KernelSource("includes.cu", include + "\nextern \"C\" __global__ void spin(unsigned long long us) {}\n");

        var error = Assert.Throws<CompileException>(() => context.Compile(source));

        Assert.Equal(GpuStatus.CompileFailed, error.Status);
        Assert.Contains("includes.cu(1): catastrophic error: a source compiled by the daemon may include nothing", error.Log);
        Assert.DoesNotContain(File.ReadAllText("/etc/passwd").Split('\n')[0], error.Message);
    }

    [Fact]
    public void A_compiled_module_is_served_from_the_disk_cache_the_second_time()
    {
        using var context = Backend.CreateContext(0);
        var source = BuiltinKernels.Source with { Options = ["-DGPUMUX_CACHE_PROBE=" + Guid.NewGuid().ToString("N")] };

        var first = context.Compile(source);
        var second = context.Compile(source);

        Assert.False(first.FromCache);
        Assert.True(second.FromCache);
        Assert.Equal(first.Image.Kind, second.Image.Kind);
        Assert.True(first.Image.Bytes.Span.SequenceEqual(second.Image.Bytes.Span));
    }

    [Fact]
    public void A_compiled_image_loads_as_a_module_and_runs()
    {
        using var gpu = new TestGpu(Backend);
        var image = gpu.Context.Compile(BuiltinKernels.Source).Image;
        using var module = gpu.Context.LoadModule(image);
        using var buffer = gpu.Context.Allocate(1000 * sizeof(float));

        gpu.Stream.Launch(module.GetFunction(KernelNames.FillF32), LaunchConfig.Linear(1000, 128, 64), new KernelArguments().Add(buffer.Pointer).Add(4f).Add(1000UL));

        Assert.All(gpu.Download<float>(buffer.Pointer, 1000), v => Assert.Equal(4f, v));
    }

    [Fact]
    public void A_module_loads_from_ptx_and_runs()
    {
        using var gpu = new TestGpu(Backend);
        using var module = gpu.Context.LoadModule(ModuleImage.FromPtx(FillPtx));
        using var buffer = gpu.Context.Allocate(1000 * sizeof(float));

        gpu.Stream.Launch(module.GetFunction(KernelNames.FillF32), LaunchConfig.Linear(1000, 128, 64), new KernelArguments().Add(buffer.Pointer).Add(-3f).Add(1000UL));

        Assert.All(gpu.Download<float>(buffer.Pointer, 1000), v => Assert.Equal(-3f, v));
    }

    [Fact]
    public void Bad_images_and_unknown_kernels_are_typed_errors()
    {
        using var context = Backend.CreateContext(0);
        using var module = context.LoadModule(BuiltinKernels.Source);

        var badImage = Assert.ThrowsAny<GpuException>(() => context.LoadModule(new ModuleImage(ModuleImageKind.Cubin, new byte[] { 1, 2, 3, 4, 5, 6, 7, 8 })));
        var unknown = Assert.ThrowsAny<GpuException>(() => module.GetFunction("no_such_kernel"));

        Assert.Equal(GpuStatus.InvalidImage, badImage.Status);
        Assert.Equal(GpuStatus.NotFound, unknown.Status);
    }

    [Fact]
    public void A_launch_with_a_bad_configuration_fails_alone_and_later_work_succeeds()
    {
        using var gpu = new TestGpu(Backend);
        using var buffer = gpu.Context.Allocate(256 * sizeof(float));
        var fill = gpu.Context.LoadModule(BuiltinKernels.Source).GetFunction(KernelNames.FillF32);
        var arguments = new KernelArguments().Add(buffer.Pointer).Add(1f).Add(256UL);

        var tooManyThreads = Assert.ThrowsAny<GpuException>(() => gpu.Stream.Launch(fill, new LaunchConfig(1, 2048), arguments));
        var emptyGrid = Assert.ThrowsAny<GpuException>(() => gpu.Stream.Launch(fill, new LaunchConfig(0, 256), arguments));

        Assert.Equal(GpuStatus.InvalidValue, tooManyThreads.Status);
        Assert.Equal(GpuStatus.InvalidValue, emptyGrid.Status);
        Assert.False(tooManyThreads.IsContextFatal);
        gpu.Kernels.Fill(gpu.Stream, buffer.Pointer, 9f, 256);
        Assert.All(gpu.Download<float>(buffer.Pointer, 256), v => Assert.Equal(9f, v));
    }

    [Fact]
    public void Physical_pages_mapped_side_by_side_read_as_one_contiguous_range()
    {
        using var gpu = new TestGpu(Backend);
        var page = gpu.Context.AllocationGranularity;
        using var range = gpu.Context.ReserveAddressRange(3 * page);
        var pages = Enumerable.Range(0, 3).Select(_ => gpu.Context.CreatePhysicalMemory(page)).ToArray();
        try
        {
            // Map out of order, so contiguity comes from the mapping and not from the allocator.
            foreach (var index in new[] { 2, 0, 1 })
            {
                gpu.Context.Map(range.Start + (ulong)index * page, page, pages[index]);
            }
            gpu.Context.SetAccess(range.Start, 3 * page, MemoryAccess.ReadWrite);
            var data = TestData.Bytes(new Random(8), (int)(3 * page) - 12);
            using var result = gpu.Context.Allocate(sizeof(ulong));

            gpu.Stream.Upload<byte>(range.Start + 4, data);
            gpu.Kernels.Checksum(gpu.Stream, range.Start + 4, (ulong)data.Length, result.Pointer);

            Assert.Equal(KernelReference.Checksum(data), gpu.Download<ulong>(result.Pointer, 1)[0]);
            Assert.Equal(data, gpu.Download<byte>(range.Start + 4, data.Length));
            foreach (var index in new[] { 0, 1, 2 })
            {
                gpu.Context.Unmap(range.Start + (ulong)index * page, page);
            }
        }
        finally
        {
            foreach (var physical in pages)
            {
                physical.Dispose();
            }
        }
    }

    [Fact]
    public void The_context_refuses_calls_from_other_threads()
    {
        using var context = Backend.CreateContext(0);

        Exception? error = null;
        var thread = new Thread(() => error = Record.Exception(() => context.Allocate(4096)));
        thread.Start();
        thread.Join();

        Assert.IsType<InvalidOperationException>(error);
    }

    [Fact]
    public void A_device_has_one_live_context_at_a_time()
    {
        using (Backend.CreateContext(0))
        {
            Assert.Throws<InvalidOperationException>(() => Backend.CreateContext(0));
        }
        using var again = Backend.CreateContext(0);
        Assert.False(again.IsDisposed);
    }

    [Fact]
    public void A_device_reset_after_its_context_is_gone_gives_a_new_context_that_computes()
    {
        using (var first = new TestGpu(Backend))
        {
            using var buffer = first.Context.Allocate(64);
        }

        Backend.ResetDevice(0);

        using var gpu = new TestGpu(Backend);
        using var filled = gpu.Context.Allocate(64 * sizeof(float));
        gpu.Kernels.Fill(gpu.Stream, filled.Pointer, 6f, 64);
        Assert.All(gpu.Download<float>(filled.Pointer, 64), v => Assert.Equal(6f, v));
    }

    [Fact]
    public void A_device_is_not_reset_under_its_live_context()
    {
        using var gpu = new TestGpu(Backend);

        Assert.Throws<InvalidOperationException>(() => Backend.ResetDevice(0));

        using var buffer = gpu.Context.Allocate(16 * sizeof(float));
        gpu.Kernels.Fill(gpu.Stream, buffer.Pointer, 7f, 16);
        Assert.All(gpu.Download<float>(buffer.Pointer, 16), v => Assert.Equal(7f, v));
    }

    private static ulong RoundUp(ulong value, ulong unit) => (value + unit - 1) / unit * unit;

    // fill_f32 written directly in PTX: one element per thread, no grid-stride loop, so the
    // launch must cover the count.
    private const string FillPtx = """
        .version 7.0
        .target sm_75
        .address_size 64

        .visible .entry fill_f32(
            .param .u64 fill_f32_dst,
            .param .f32 fill_f32_value,
            .param .u64 fill_f32_count
        )
        {
            .reg .pred %p<2>;
            .reg .b32 %r<4>;
            .reg .f32 %f<2>;
            .reg .b64 %rd<8>;

            ld.param.u64 %rd1, [fill_f32_dst];
            ld.param.f32 %f1, [fill_f32_value];
            ld.param.u64 %rd2, [fill_f32_count];
            mov.u32 %r1, %ctaid.x;
            mov.u32 %r2, %ntid.x;
            mov.u32 %r3, %tid.x;
            cvt.u64.u32 %rd3, %r3;
            mad.wide.u32 %rd4, %r1, %r2, %rd3;
            setp.ge.u64 %p1, %rd4, %rd2;
            @%p1 bra DONE;
            cvta.to.global.u64 %rd5, %rd1;
            shl.b64 %rd6, %rd4, 2;
            add.s64 %rd7, %rd5, %rd6;
            st.global.f32 [%rd7], %f1;
        DONE:
            ret;
        }
        """;
}
