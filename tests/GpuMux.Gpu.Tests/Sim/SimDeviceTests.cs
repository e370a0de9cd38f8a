using System.Runtime.InteropServices;
using GpuMux.Gpu.Kernels;
using GpuMux.Gpu.Sim;

namespace GpuMux.Gpu.Tests.Sim;

/// <summary>Behaviour only the simulator can show deterministically, or that would poison a real GPU's context.</summary>
public sealed class SimDeviceTests
{
    private readonly GpuBackend _backend = GpuBackends.CreateSim(new GpuBackendOptions { ModuleCacheDirectory = null });

    [Fact]
    public void A_higher_priority_stream_runs_first_at_the_next_kernel_boundary()
    {
        using var gpu = new TestGpu(_backend);
        var priorities = gpu.Context.StreamPriorities;
        using var low = gpu.Context.CreateStream(priorities.Least);
        using var high = gpu.Context.CreateStream(priorities.Greatest);
        var lowDone = Enumerable.Range(0, 3).Select(_ => gpu.Context.CreateEvent()).ToArray();
        using var highDone = gpu.Context.CreateEvent();

        foreach (var marker in lowDone)
        {
            gpu.Kernels.Spin(low, TimeSpan.FromMilliseconds(20));
            low.Record(marker);
        }
        gpu.Kernels.Spin(high, TimeSpan.FromMilliseconds(1));
        high.Record(highDone);
        gpu.Context.Synchronize();

        // Ordering, not timing: the high-priority kernel completed before the second and third low ones.
        Assert.True(GpuEvent.ElapsedMilliseconds(highDone, lowDone[1]) > 0);
        Assert.True(GpuEvent.ElapsedMilliseconds(highDone, lowDone[2]) > 0);
        foreach (var marker in lowDone)
        {
            marker.Dispose();
        }
    }

    [Fact]
    public void A_kernel_fault_is_sticky_until_the_context_is_replaced()
    {
        var gpu = new TestGpu(_backend);
        var stray = new DevicePtr(0x1000);

        gpu.Kernels.Fill(gpu.Stream, stray, 1f, 16);
        var fault = Assert.ThrowsAny<GpuException>(() => gpu.Stream.Synchronize());
        var later = Assert.ThrowsAny<GpuException>(() => gpu.Context.Allocate(4096));

        Assert.Equal(GpuStatus.IllegalAddress, fault.Status);
        Assert.True(fault.IsContextFatal);
        Assert.Equal(GpuStatus.IllegalAddress, later.Status);
        gpu.Dispose();
        using var fresh = new TestGpu(_backend);
        using var buffer = fresh.Context.Allocate(64);
        fresh.Kernels.Fill(fresh.Stream, buffer.Pointer, 2f, 16);
        Assert.All(fresh.Download<float>(buffer.Pointer, 16), v => Assert.Equal(2f, v));
    }

    [Fact]
    public void A_host_function_queued_behind_a_fault_is_never_called()
    {
        var gpu = new TestGpu(_backend);
        using var probe = new HostFunctionProbe();

        // The spin keeps the fault off until the host function is queued behind it.
        gpu.Kernels.Spin(gpu.Stream, TimeSpan.FromMilliseconds(500));
        gpu.Kernels.Fill(gpu.Stream, new DevicePtr(0x1000), 1f, 16);
        probe.LaunchOn(gpu.Stream);
        Assert.ThrowsAny<GpuException>(() => gpu.Stream.Synchronize());
        // Once the context is disposed nothing of it runs any more, so a call would have happened by now.
        gpu.Dispose();

        Assert.Equal(0, probe.Calls);
    }

    [Fact]
    public void A_fault_while_another_engine_copies_poisons_the_context_and_nothing_else()
    {
        var gpu = new TestGpu(_backend);
        using var copier = gpu.Context.CreateStream();
        const ulong bytes = 64 << 20;
        using var host = gpu.Context.AllocatePinned(bytes);
        using var device = gpu.Context.Allocate(bytes);

        // Everything is queued before the kernel can fault: once it has, every call throws.
        for (var i = 0; i < 4; i++)
        {
            copier.CopyToDevice(device.Pointer, host.Pointer, bytes);
        }
        gpu.Kernels.Fill(gpu.Stream, new DevicePtr(0x1000), 1f, 16);

        Assert.Equal(GpuStatus.IllegalAddress, Assert.ThrowsAny<GpuException>(() => gpu.Context.Synchronize()).Status);
        gpu.Dispose();
        using var fresh = new TestGpu(_backend);
        using var buffer = fresh.Context.Allocate(64);
        fresh.Kernels.Fill(fresh.Stream, buffer.Pointer, 3f, 16);
        Assert.All(fresh.Download<float>(buffer.Pointer, 16), v => Assert.Equal(3f, v));
    }

    [Fact]
    public async Task Destroying_a_context_ends_its_running_kernel_and_drops_the_work_queued_behind_it()
    {
        var gpu = new TestGpu(_backend);
        var device = gpu.Upload<float>([1f, 2f, 3f, 4f]);
        var host = new float[4];
        var pinned = GCHandle.Alloc(host, GCHandleType.Pinned);
        try
        {
            // An hour of kernel, as a step that will not end: only the context's end stops it, as
            // a reset does on a GPU, and the copy behind it never writes the host's memory.
            gpu.Kernels.Spin(gpu.Stream, TimeSpan.FromHours(1));
            gpu.Stream.CopyToHost(pinned.AddrOfPinnedObject(), device.Pointer, 4 * sizeof(float));
            var ct = TestContext.Current.CancellationToken;
            // Time for the kernel to be running rather than queued, which the context's end drops.
            await Task.Delay(100, ct);
            await Task.Run(
                () =>
                {
                    device.Dispose();
                    gpu.Dispose();
                },
                ct).WaitAsync(TimeSpan.FromSeconds(30), ct);

            await Task.Delay(50, ct);
            Assert.Equal(new float[4], host);
        }
        finally
        {
            pinned.Free();
        }
    }

    [Fact]
    public void A_device_that_does_not_come_back_fails_its_reset_and_the_reset_is_counted()
    {
        var backend = LostAfterReset(SimResetOutcome.ResetFails);

        var refusal = Assert.Throws<GpuException>(() => backend.ResetDevice(0));

        Assert.Equal(GpuStatus.NoDevice, refusal.Status);
        Assert.Equal(1, backend.Resets(0));
    }

    [Fact]
    public void On_a_device_damaged_by_its_reset_kernels_complete_without_doing_their_work()
    {
        var backend = LostAfterReset(SimResetOutcome.KernelsDoNotRun);
        using (var before = new TestGpu(backend))
        {
            using var buffer = before.Context.Allocate(16 * sizeof(float));
            before.Kernels.Fill(before.Stream, buffer.Pointer, 5f, 16);
            Assert.All(before.Download<float>(buffer.Pointer, 16), v => Assert.Equal(5f, v));
        }

        backend.ResetDevice(0);

        using var after = new TestGpu(backend);
        using var zeros = after.Upload<float>(new float[16]);
        after.Kernels.Fill(after.Stream, zeros.Pointer, 5f, 16);
        Assert.All(after.Download<float>(zeros.Pointer, 16), v => Assert.Equal(0f, v));
    }

    [Theory]
    [InlineData(100_000_000_000_000_000UL)]
    [InlineData(922_337_203_685_477_581UL)]
    [InlineData(ulong.MaxValue)]
    public void A_spin_too_long_to_count_is_modelled_as_running_for_ever_not_overflowing_or_ending_at_once(ulong microseconds)
    {
        using var gpu = new TestGpu(_backend);
        var context = (SimContext)gpu.Context;
        var arguments = new KernelArguments().Add(microseconds).Items.ToArray();

        var ticks = SimKernels.Builtin[KernelNames.Spin].Run(new SimKernelInvocation(arguments, context.Memory, context.Options));

        // spin.cu saturates its wait; the compute engine waits until now plus the kernel's time,
        // which must lie more than a century ahead, not wrap into the past.
        var now = SimClock.Now;
        Assert.True(now + ticks > now + SimClock.Ticks(TimeSpan.FromDays(100 * 365)), $"{ticks} ticks from {now} is not a century ahead");
    }

    [Fact]
    public void A_kernel_body_that_throws_faults_the_context_and_the_process_carries_on()
    {
        var gpu = new TestGpu(_backend);
        var broken = new SimKernel(KernelNames.Spin, _ => throw new InvalidOperationException("a bug in a kernel body"));

        ((SimContext)gpu.Context).Scheduler.Launch((SimStream)gpu.Stream, broken, []);
        var fault = Assert.ThrowsAny<GpuException>(() => gpu.Stream.Synchronize());

        Assert.Equal(GpuStatus.KernelFault, fault.Status);
        Assert.True(fault.IsContextFatal);
        Assert.Contains("a bug in a kernel body", fault.Message, StringComparison.Ordinal);
        gpu.Dispose();
        using var fresh = new TestGpu(_backend);
        using var buffer = fresh.Context.Allocate(64);
        fresh.Kernels.Fill(fresh.Stream, buffer.Pointer, 4f, 16);
        Assert.All(fresh.Download<float>(buffer.Pointer, 16), v => Assert.Equal(4f, v));
    }

    [Fact]
    public void A_grid_whose_volume_wraps_to_zero_is_refused_for_its_size_not_as_empty()
    {
        using var gpu = new TestGpu(_backend);
        using var buffer = gpu.Context.Allocate(64);
        using var module = gpu.Context.LoadModule(BuiltinKernels.Compile(gpu.Context));
        var arguments = new KernelArguments().Add(buffer.Pointer).Add(1f).Add(16UL);

        var refused = Assert.ThrowsAny<GpuException>(
            () => gpu.Stream.Launch(module.GetFunction(KernelNames.FillF32), new LaunchConfig(new Dim3(1U << 31, 1U << 31, 4), 32), arguments));

        Assert.Equal(GpuStatus.InvalidValue, refused.Status);
        Assert.Contains("exceeds the device's maximum", refused.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void A_misaligned_kernel_pointer_is_a_fault()
    {
        using var gpu = new TestGpu(_backend);
        using var data = gpu.Context.Allocate(64);
        using var result = gpu.Context.Allocate(8);

        gpu.Kernels.Checksum(gpu.Stream, data.Pointer + 1, 16, result.Pointer);

        Assert.Equal(GpuStatus.KernelFault, Assert.ThrowsAny<GpuException>(() => gpu.Stream.Synchronize()).Status);
    }

    [Fact]
    public void Copies_into_memory_that_is_not_mapped_are_refused_when_queued()
    {
        using var gpu = new TestGpu(_backend);
        var page = gpu.Context.AllocationGranularity;
        using var range = gpu.Context.ReserveAddressRange(2 * page);
        using var physical = gpu.Context.CreatePhysicalMemory(page);
        gpu.Context.Map(range.Start, page, physical);
        var data = new byte[16];

        var beforeAccess = Assert.ThrowsAny<GpuException>(() => gpu.Stream.Upload<byte>(range.Start, data));
        gpu.Context.SetAccess(range.Start, page, MemoryAccess.ReadWrite);
        gpu.Stream.Upload<byte>(range.Start, data);
        var unmapped = Assert.ThrowsAny<GpuException>(() => gpu.Stream.Upload<byte>(range.Start + page, data));
        var across = Assert.ThrowsAny<GpuException>(() => gpu.Stream.Upload<byte>(range.Start + (page - 8), data));

        Assert.Equal(GpuStatus.InvalidValue, beforeAccess.Status);
        Assert.Equal(GpuStatus.InvalidValue, unmapped.Status);
        Assert.Equal(GpuStatus.InvalidValue, across.Status);
        gpu.Context.Unmap(range.Start, page);
    }

    [Fact]
    public void One_unmap_of_two_mappings_side_by_side_is_refused_and_both_stay()
    {
        using var gpu = new TestGpu(_backend);
        var page = gpu.Context.AllocationGranularity;
        using var range = gpu.Context.ReserveAddressRange(2 * page);
        using var first = gpu.Context.CreatePhysicalMemory(page);
        using var second = gpu.Context.CreatePhysicalMemory(page);
        gpu.Context.Map(range.Start, page, first);
        gpu.Context.Map(range.Start + page, page, second);
        gpu.Context.SetAccess(range.Start, 2 * page, MemoryAccess.ReadWrite);

        var spanning = Assert.ThrowsAny<GpuException>(() => gpu.Context.Unmap(range.Start, 2 * page));

        Assert.Equal(GpuStatus.InvalidValue, spanning.Status);
        gpu.Stream.Upload<byte>(range.Start + (page - 8), new byte[16]);
        gpu.Context.Unmap(range.Start, page);
        gpu.Context.Unmap(range.Start + page, page);
    }

    [Fact]
    public void Access_set_on_part_of_a_mapping_is_refused()
    {
        using var gpu = new TestGpu(_backend);
        var page = gpu.Context.AllocationGranularity;
        using var range = gpu.Context.ReserveAddressRange(2 * page);
        using var physical = gpu.Context.CreatePhysicalMemory(2 * page);
        gpu.Context.Map(range.Start, 2 * page, physical);

        var part = Assert.ThrowsAny<GpuException>(() => gpu.Context.SetAccess(range.Start, page, MemoryAccess.ReadWrite));

        Assert.Equal(GpuStatus.InvalidValue, part.Status);
        Assert.ThrowsAny<GpuException>(() => gpu.Stream.Upload<byte>(range.Start, new byte[16]));
        gpu.Context.Unmap(range.Start, 2 * page);
    }

    [Fact]
    public void Physical_memory_counts_against_capacity_until_released_and_unmapped()
    {
        using var gpu = new TestGpu(_backend);
        var page = gpu.Context.AllocationGranularity;
        var baseline = gpu.Context.GetMemoryInfo().FreeBytes;
        using var range = gpu.Context.ReserveAddressRange(page);
        var physical = gpu.Context.CreatePhysicalMemory(page);
        gpu.Context.Map(range.Start, page, physical);

        physical.Dispose();
        var whileMapped = gpu.Context.GetMemoryInfo().FreeBytes;
        gpu.Context.Unmap(range.Start, page);
        var afterUnmap = gpu.Context.GetMemoryInfo().FreeBytes;

        Assert.Equal(baseline - page, whileMapped);
        Assert.Equal(baseline, afterUnmap);
    }

    [Fact]
    public void Freed_device_memory_returns_to_the_baseline()
    {
        using var gpu = new TestGpu(_backend);
        var baseline = gpu.Context.GetMemoryInfo().FreeBytes;

        var allocations = Enumerable.Range(1, 20).Select(i => gpu.Context.Allocate((ulong)i * 1000 + 3)).ToList();
        Assert.True(gpu.Context.GetMemoryInfo().FreeBytes < baseline);
        allocations.ForEach(a => a.Dispose());

        Assert.Equal(baseline, gpu.Context.GetMemoryInfo().FreeBytes);
    }

    [Fact]
    public void Capacity_is_configurable_and_enforced()
    {
        var small = GpuBackends.CreateSim(new GpuBackendOptions { ModuleCacheDirectory = null, Sim = new SimDeviceOptions { CapacityBytes = 8UL << 20 } });
        using var context = small.CreateContext(0);

        using var most = context.Allocate(6UL << 20);

        Assert.Equal(GpuStatus.OutOfMemory, context.TryAllocate(4UL << 20, out _));
        using var rest = context.Allocate(1UL << 20);
    }

    [Fact]
    public unsafe void Pinned_and_registered_host_memory_get_the_pinned_bandwidth()
    {
        using var gpu = new TestGpu(_backend);
        var sim = (SimContext)gpu.Context;
        using var pinned = gpu.Context.AllocatePinned(1 << 20);
        const int Bytes = 1 << 20;
        var pageable = (nint)NativeMemory.AlignedAlloc(Bytes, (nuint)Environment.SystemPageSize);
        try
        {
            Assert.Equal(sim.Options.PageableCopyBytesPerSecond, sim.CopyBandwidth(pageable, Bytes));
            using (gpu.Context.RegisterHostMemory(pageable, Bytes))
            {
                Assert.Equal(sim.Options.PinnedCopyBytesPerSecond, sim.CopyBandwidth(pageable, Bytes));
            }
            Assert.Equal(sim.Options.PageableCopyBytesPerSecond, sim.CopyBandwidth(pageable, Bytes));
        }
        finally
        {
            NativeMemory.AlignedFree((void*)pageable);
        }
        Assert.Equal(sim.Options.PinnedCopyBytesPerSecond, sim.CopyBandwidth(pinned.Pointer, pinned.Length));
        Assert.Equal(sim.Options.PageableCopyBytesPerSecond, sim.CopyBandwidth(pinned.Pointer, pinned.Length + 1));
    }

    [Fact]
    public void A_destroyed_stream_still_finishes_its_queued_work()
    {
        using var gpu = new TestGpu(_backend);
        using var buffer = gpu.Context.Allocate(4096 * sizeof(float));
        var stream = gpu.Context.CreateStream();

        gpu.Kernels.Spin(stream, TimeSpan.FromMilliseconds(10));
        gpu.Kernels.Fill(stream, buffer.Pointer, 8f, 4096);
        stream.Dispose();
        gpu.Context.Synchronize();

        Assert.All(gpu.Download<float>(buffer.Pointer, 4096), v => Assert.Equal(8f, v));
    }

    [Fact]
    public void Kernels_without_a_simulated_implementation_fail_to_compile_with_a_clear_log()
    {
        using var context = _backend.CreateContext(0);
        var source = new KernelSource("custom.cu", "extern \"C\" __global__ void my_kernel(float* x)\n{\n    x[0] = 1.0f;\n}\n");

        var error = Assert.Throws<CompileException>(() => context.Compile(source));

        Assert.Contains("custom.cu(1): error: kernel \"my_kernel\" has no simulated implementation", error.Log);
    }

    [Fact]
    public void A_cubin_for_a_real_gpu_is_an_invalid_image_on_the_simulator()
    {
        using var context = _backend.CreateContext(0);
        byte[] elf = [0x7F, (byte)'E', (byte)'L', (byte)'F', 2, 1, 1, 0];

        var error = Assert.ThrowsAny<GpuException>(() => context.LoadModule(new ModuleImage(ModuleImageKind.Cubin, elf)));

        Assert.Equal(GpuStatus.InvalidImage, error.Status);
    }

    private static SimBackend LostAfterReset(SimResetOutcome outcome) =>
        (SimBackend)GpuBackends.CreateSim(new GpuBackendOptions { ModuleCacheDirectory = null, Sim = new SimDeviceOptions { AfterReset = outcome } });
}
