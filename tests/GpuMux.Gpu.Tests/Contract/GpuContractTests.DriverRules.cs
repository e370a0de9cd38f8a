using System.Runtime.InteropServices;
using GpuMux.Gpu.Kernels;

namespace GpuMux.Gpu.Tests.Contract;

/// <summary>
/// The rules of docs/design.md's table that both backends keep: what the driver's header says
/// it refuses, refused with the same status. Rules where the Sim is stricter than the header
/// requires are tested in SimDeviceTests, and the GPU probe (native/probe) says what a card does.
/// </summary>
public abstract partial class GpuContractTests
{
    [Fact]
    public void A_host_function_runs_once_the_work_before_it_has_completed_and_holds_the_work_after_it()
    {
        using var gpu = new TestGpu(Backend);
        using var buffer = gpu.Context.Allocate(4 << 20);
        using var before = gpu.Context.CreateEvent(enableTiming: false);
        using var after = gpu.Context.CreateEvent(enableTiming: false);
        using var probe = new HostFunctionProbe(hold: true);

        gpu.Kernels.Fill(gpu.Stream, buffer.Pointer, 1f, 1 << 20);
        gpu.Stream.Record(before);
        probe.LaunchOn(gpu.Stream);
        gpu.Stream.Record(after);

        Assert.True(probe.WaitEntered());
        Assert.True(before.IsComplete());
        Assert.False(after.IsComplete());
        probe.Release();
        gpu.Stream.Synchronize();
        Assert.True(after.IsComplete());
        Assert.Equal(1, probe.Calls);
    }

    [Fact]
    public void A_gpu_call_from_a_host_function_is_refused_and_the_stream_goes_on()
    {
        using var gpu = new TestGpu(Backend);
        using var marker = gpu.Context.CreateEvent(enableTiming: false);
        using var probe = new HostFunctionProbe(body: () => marker.IsComplete());

        probe.LaunchOn(gpu.Stream);
        gpu.Stream.Synchronize();

        Assert.IsType<InvalidOperationException>(probe.Thrown);
        Assert.True(gpu.Stream.IsIdle());
    }

    [Fact]
    public void A_completion_signal_is_set_once_the_work_before_it_has_completed()
    {
        using var gpu = new TestGpu(Backend);
        using var buffer = gpu.Context.Allocate(4 << 20);
        using var marker = gpu.Context.CreateEvent(enableTiming: false);
        using var signal = new CompletionSignal();

        gpu.Kernels.Fill(gpu.Stream, buffer.Pointer, 1f, 1 << 20);
        gpu.Stream.Record(marker);
        signal.SetAfter(gpu.Stream);

        Assert.True(signal.Wait(TimeSpan.FromSeconds(30)));
        Assert.True(marker.IsComplete());
        Assert.Equal(1, signal.Wakeups);
    }

    [Fact]
    public void Physical_memory_maps_from_its_start_only_whole_or_by_a_prefix()
    {
        using var gpu = new TestGpu(Backend);
        var page = gpu.Context.AllocationGranularity;
        using var range = gpu.Context.ReserveAddressRange(2 * page);
        using var physical = gpu.Context.CreatePhysicalMemory(2 * page);

        // What a pool that cut large allocations into pages would do for its second page.
        var offset = Assert.ThrowsAny<GpuException>(() => gpu.Context.Map(range.Start, page, physical, offset: page));
        gpu.Context.Map(range.Start, page, physical);
        gpu.Context.SetAccess(range.Start, page, MemoryAccess.ReadWrite);
        var data = TestData.Bytes(new Random(9), (int)page);
        gpu.Stream.Upload<byte>(range.Start, data);

        Assert.Equal(GpuStatus.InvalidValue, offset.Status);
        Assert.Equal(data, gpu.Download<byte>(range.Start, data.Length));
        gpu.Context.Unmap(range.Start, page);
    }

    [Fact]
    public void A_map_over_mapped_addresses_outside_a_reservation_or_off_the_granularity_is_refused()
    {
        using var gpu = new TestGpu(Backend);
        var page = gpu.Context.AllocationGranularity;
        using var range = gpu.Context.ReserveAddressRange(2 * page);
        using var physical = gpu.Context.CreatePhysicalMemory(page);
        using var other = gpu.Context.CreatePhysicalMemory(2 * page);
        gpu.Context.Map(range.Start + page, page, physical);

        var overMapped = Assert.ThrowsAny<GpuException>(() => gpu.Context.Map(range.Start, 2 * page, other));
        var outside = Assert.ThrowsAny<GpuException>(() => gpu.Context.Map(range.Start + page, 2 * page, other));
        var unaligned = Assert.ThrowsAny<GpuException>(() => gpu.Context.Map(range.Start + (page / 2), page, other));

        Assert.Equal(GpuStatus.InvalidValue, overMapped.Status);
        Assert.Equal(GpuStatus.InvalidValue, outside.Status);
        Assert.Equal(GpuStatus.InvalidValue, unaligned.Status);
        gpu.Context.Unmap(range.Start + page, page);
    }

    [Fact]
    public void Sizes_off_the_allocation_granularity_are_refused_for_physical_memory_and_reservations()
    {
        using var context = Backend.CreateContext(0);
        var unaligned = context.AllocationGranularity + (ulong)Environment.SystemPageSize;

        Assert.Equal(GpuStatus.InvalidValue, Assert.ThrowsAny<GpuException>(() => context.CreatePhysicalMemory(unaligned)).Status);
        Assert.Equal(GpuStatus.InvalidValue, Assert.ThrowsAny<GpuException>(() => context.ReserveAddressRange(unaligned)).Status);
    }

    [Fact]
    public void An_unmap_of_part_of_a_mapping_is_refused_and_the_mapping_stays()
    {
        using var gpu = new TestGpu(Backend);
        var page = gpu.Context.AllocationGranularity;
        using var range = gpu.Context.ReserveAddressRange(2 * page);
        using var physical = gpu.Context.CreatePhysicalMemory(2 * page);
        gpu.Context.Map(range.Start, 2 * page, physical);
        gpu.Context.SetAccess(range.Start, 2 * page, MemoryAccess.ReadWrite);
        var data = TestData.Bytes(new Random(10), 4096);
        gpu.Stream.Upload<byte>(range.Start + page, data);

        var half = Assert.ThrowsAny<GpuException>(() => gpu.Context.Unmap(range.Start, page));

        Assert.Equal(GpuStatus.InvalidValue, half.Status);
        Assert.Equal(data, gpu.Download<byte>(range.Start + page, data.Length));
        gpu.Context.Unmap(range.Start, 2 * page);
    }

    [Fact]
    public void Access_is_set_in_one_call_across_whole_mappings_and_refused_where_the_range_is_partly_unmapped()
    {
        using var gpu = new TestGpu(Backend);
        var page = gpu.Context.AllocationGranularity;
        using var range = gpu.Context.ReserveAddressRange(3 * page);
        using var first = gpu.Context.CreatePhysicalMemory(page);
        using var second = gpu.Context.CreatePhysicalMemory(page);
        gpu.Context.Map(range.Start, page, first);
        gpu.Context.Map(range.Start + page, page, second);

        var partlyUnmapped = Assert.ThrowsAny<GpuException>(() => gpu.Context.SetAccess(range.Start + page, 2 * page, MemoryAccess.ReadWrite));
        gpu.Context.SetAccess(range.Start, 2 * page, MemoryAccess.ReadWrite);
        var data = TestData.Bytes(new Random(11), (int)page);
        gpu.Stream.Upload<byte>(range.Start + (page / 2), data);

        Assert.Equal(GpuStatus.InvalidValue, partlyUnmapped.Status);
        Assert.Equal(data, gpu.Download<byte>(range.Start + (page / 2), data.Length));
        gpu.Context.Unmap(range.Start, page);
        gpu.Context.Unmap(range.Start + page, page);
    }

    [Fact]
    public void A_copy_to_reserved_addresses_with_nothing_mapped_is_refused_when_queued()
    {
        using var gpu = new TestGpu(Backend);
        using var range = gpu.Context.ReserveAddressRange(gpu.Context.AllocationGranularity);
        using var pinned = gpu.Context.AllocatePinned(4096);

        var error = Assert.ThrowsAny<GpuException>(() => gpu.Stream.CopyToDevice(range.Start, pinned.Pointer, 4096));

        Assert.Equal(GpuStatus.InvalidValue, error.Status);
        Assert.False(error.IsContextFatal);
    }

    [Fact]
    public unsafe void Host_memory_is_registered_from_a_page_boundary_and_unregistered_by_its_start()
    {
        using var context = Backend.CreateContext(0);
        var page = (nuint)Environment.SystemPageSize;
        var host = (nint)NativeMemory.AlignedAlloc(4 * page, page);
        try
        {
            var unaligned = Assert.ThrowsAny<GpuException>(() => context.RegisterHostMemory(host + 1, page));
            using (context.RegisterHostMemory(host, 2 * page))
            {
                var overlapping = Assert.ThrowsAny<GpuException>(() => context.RegisterHostMemory(host + (nint)page, 2 * page));
                Assert.Equal(GpuStatus.HostMemoryAlreadyRegistered, overlapping.Status);
            }

            Assert.Equal(GpuStatus.InvalidValue, unaligned.Status);
            using var again = context.RegisterHostMemory(host + (nint)page, 2 * page);
        }
        finally
        {
            NativeMemory.AlignedFree((void*)host);
        }
    }

    [Fact]
    public void A_32_bit_memset_off_a_4_byte_boundary_is_refused()
    {
        using var gpu = new TestGpu(Backend);
        using var buffer = gpu.Context.Allocate(64);

        var error = Assert.ThrowsAny<GpuException>(() => gpu.Stream.Memset32(buffer.Pointer + 2, 0, 4));

        Assert.Equal(GpuStatus.InvalidValue, error.Status);
        Assert.False(error.IsContextFatal);
    }

    [Fact]
    public void Elapsed_time_needs_two_events_created_with_timing()
    {
        using var gpu = new TestGpu(Backend);
        using var start = gpu.Context.CreateEvent(enableTiming: false);
        using var end = gpu.Context.CreateEvent();
        gpu.Stream.Record(start);
        gpu.Stream.Record(end);
        gpu.Stream.Synchronize();

        var error = Assert.ThrowsAny<GpuException>(() => GpuEvent.ElapsedMilliseconds(start, end));

        Assert.Equal(GpuStatus.InvalidHandle, error.Status);
    }

    [Fact]
    public void Launches_past_the_device_s_block_dimensions_or_shared_memory_are_refused()
    {
        using var gpu = new TestGpu(Backend);
        using var buffer = gpu.Context.Allocate(256 * sizeof(float));
        var device = gpu.Context.Device;
        var fill = gpu.Context.LoadModule(BuiltinKernels.Compile(gpu.Context)).GetFunction(KernelNames.FillF32);
        var arguments = new KernelArguments().Add(buffer.Pointer).Add(1f).Add(256UL);

        var deep = Assert.ThrowsAny<GpuException>(() => gpu.Stream.Launch(fill, new LaunchConfig(1, new Dim3(1, 1, device.MaxBlockDim.Z + 1)), arguments));
        var shared = Assert.ThrowsAny<GpuException>(() => gpu.Stream.Launch(fill, new LaunchConfig(1, 32, (uint)device.MaxSharedMemoryPerBlock + 1), arguments));

        Assert.Equal(GpuStatus.InvalidValue, deep.Status);
        Assert.Equal(GpuStatus.InvalidValue, shared.Status);
        gpu.Kernels.Fill(gpu.Stream, buffer.Pointer, 2f, 256);
        Assert.All(gpu.Download<float>(buffer.Pointer, 256), v => Assert.Equal(2f, v));
    }

    [Fact]
    public void The_built_in_kernels_report_the_parameters_their_sources_declare()
    {
        using var context = Backend.CreateContext(0);
        using var module = context.LoadModule(context.Compile(BuiltinKernels.Source).Image);

        foreach (var (name, declared) in BuiltinSignatures.Parameters)
        {
            Assert.Equal(declared, module.GetFunction(name).Parameters);
        }
    }

    [Fact]
    public void A_launch_with_an_argument_too_few_or_of_the_wrong_size_is_refused_and_later_work_succeeds()
    {
        using var gpu = new TestGpu(Backend);
        using var buffer = gpu.Context.Allocate(64);
        var fill = gpu.Context.LoadModule(BuiltinKernels.Compile(gpu.Context)).GetFunction(KernelNames.FillF32);
        var config = new LaunchConfig(1, 32);

        var tooFew = Assert.ThrowsAny<GpuException>(() => gpu.Stream.Launch(fill, config, new KernelArguments().Add(buffer.Pointer).Add(1f)));
        var wrongSize = Assert.ThrowsAny<GpuException>(() => gpu.Stream.Launch(fill, config, new KernelArguments().Add(buffer.Pointer).Add(1.0).Add(16UL)));

        Assert.Equal(GpuStatus.InvalidValue, tooFew.Status);
        Assert.Contains("takes 3 arguments, the launch passed 2", tooFew.Message, StringComparison.Ordinal);
        Assert.Equal(GpuStatus.InvalidValue, wrongSize.Status);
        Assert.Contains("parameter 1 of kernel fill_f32 is 4 bytes", wrongSize.Message, StringComparison.Ordinal);
        gpu.Kernels.Fill(gpu.Stream, buffer.Pointer, 5f, 16);
        Assert.All(gpu.Download<float>(buffer.Pointer, 16), v => Assert.Equal(5f, v));
    }
}
