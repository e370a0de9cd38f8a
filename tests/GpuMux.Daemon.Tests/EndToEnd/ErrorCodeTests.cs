using System.Text;
using GpuMux.Client;
using GpuMux.Linux;
using GpuMux.Protocol;
using GpuMux.Protocol.Messages;

namespace GpuMux.Daemon.Tests.EndToEnd;

/// <summary>Each error a client can cause, caused through the real client, and the session carrying on after it.</summary>
public sealed class ErrorCodeTests : IAsyncLifetime
{
    private TestDaemon _daemon = null!;
    private GpuMuxClient _client = null!;

    private static CancellationToken Cancellation => TestContext.Current.CancellationToken;

    public async ValueTask InitializeAsync()
    {
        _daemon = await TestDaemon.StartAsync(TestDaemon.TrustingModules);
        _client = await _daemon.ConnectAsync();
    }

    public async ValueTask DisposeAsync()
    {
        await _client.DisposeAsync();
        await _daemon.DisposeAsync();
    }

    [Fact]
    public async Task A_zero_byte_buffer_is_an_invalid_argument()
    {
        var error = await Assert.ThrowsAsync<InvalidArgumentException>(() => _client.AllocateBufferAsync(0, Cancellation));
        Assert.Equal(ErrorCode.InvalidArgument, error.Code);
        await AssertSessionWorksAsync();
    }

    [Fact]
    public async Task A_buffer_larger_than_the_device_is_out_of_memory_and_retryable()
    {
        var error = await Assert.ThrowsAsync<DeviceOutOfMemoryException>(
            () => _client.AllocateBufferAsync(2UL * TestDaemon.SimMemoryMiB << 20, Cancellation));
        Assert.True(error.IsRetryable);
        await AssertSessionWorksAsync();
    }

    [Fact]
    public async Task A_region_over_the_session_limit_exceeds_the_quota()
    {
        var regions = new List<SharedRegion>();
        for (var i = 0; i < TestDaemon.MaxRegionsPerSession; i++)
        {
            regions.Add(await _client.CreateRegionAsync(4096, Cancellation));
        }

        await Assert.ThrowsAsync<QuotaExceededException>(() => _client.CreateRegionAsync(4096, Cancellation));
        await regions[0].DisposeAsync();
        regions[0] = await _client.CreateRegionAsync(4096, Cancellation);
        foreach (var region in regions)
        {
            await region.DisposeAsync();
        }
    }

    [Fact]
    public async Task A_kernel_name_not_in_the_module_is_an_unknown_function()
    {
        var error = await Assert.ThrowsAsync<UnknownFunctionException>(() => _client.GetBuiltinAsync("no_such_kernel", Cancellation));
        Assert.Contains("no_such_kernel", error.Message);
    }

    [Fact]
    public async Task Source_that_does_not_compile_fails_with_the_compiler_log()
    {
        var source = Encoding.UTF8.GetBytes("extern \"C\" __global__ void broken(float* y) { y[0] = 1.0f; ");

        var error = await Assert.ThrowsAsync<CompileFailedException>(() => _client.LoadModuleAsync(ModuleFormat.CudaC, "broken.cu", source, Cancellation));
        Assert.Contains("broken.cu", error.Message);
        await AssertSessionWorksAsync();
    }

    [Theory]
    [InlineData("#include \"/etc/passwd\"")]
    [InlineData("#include \"passwd\"")]
    [InlineData("#include <stdio.h>")]
    public async Task Source_that_includes_a_file_fails_to_compile_and_nothing_of_the_file_reaches_the_client(string include)
    {
        var source = Encoding.UTF8.GetBytes(include + "\n" + Gpu.Kernels.BuiltinKernels.Source.Code);

        var error = await Assert.ThrowsAsync<CompileFailedException>(() => _client.LoadModuleAsync(ModuleFormat.CudaC, "includes.cu", source, Cancellation));
        Assert.Contains("includes.cu(1): catastrophic error", error.Message);
        Assert.DoesNotContain(File.ReadAllText("/etc/passwd").Split('\n')[0], error.Message);
        await AssertSessionWorksAsync();
    }

    [Fact]
    public async Task Ptx_the_driver_refuses_fails_to_load()
    {
        var garbage = Encoding.ASCII.GetBytes("this is not PTX");

        await Assert.ThrowsAsync<ModuleLoadFailedException>(() => _client.LoadModuleAsync(ModuleFormat.Ptx, "garbage.ptx", garbage, Cancellation));
        await AssertSessionWorksAsync();
    }

    [Fact]
    public async Task Cuda_c_the_sim_can_run_loads_and_its_kernel_is_found()
    {
        var source = Encoding.UTF8.GetBytes(Gpu.Kernels.BuiltinKernels.Source.Code);

        await using var module = await _client.LoadModuleAsync(ModuleFormat.CudaC, "builtins.cu", source, Cancellation);
        var fill = await _client.GetFunctionAsync(module, "fill_f32", Cancellation);

        Assert.NotEqual(0u, module.Handle);
        Assert.Equal("fill_f32", fill.Name);
    }

    [Fact]
    public async Task A_copy_past_the_end_of_a_buffer_is_refused_before_anything_runs()
    {
        await using var region = await _client.CreateRegionAsync(8192, Cancellation);
        await using var buffer = await _client.AllocateBufferAsync(4096, Cancellation);

        var error = await Assert.ThrowsAsync<InvalidArgumentException>(
            () => _client.SubmitAsync(new StepBuilder().CopyIn(region, 0, buffer, 0, 8192), Cancellation).AsTask());
        Assert.Contains("buffer", error.Message, StringComparison.OrdinalIgnoreCase);
        await AssertSessionWorksAsync();
    }

    [Fact]
    public async Task A_kernel_writing_outside_its_buffer_faults_and_the_session_carries_on()
    {
        await using var buffer = await _client.AllocateBufferAsync(4096, Cancellation);
        var fill = await RunawayFill.LoadAsync(_client);
        var runaway = new StepBuilder().Runaway(fill, buffer);

        var error = await Assert.ThrowsAsync<KernelFaultException>(() => _client.SubmitAsync(runaway, Cancellation).AsTask());
        Assert.False(error.IsRetryable);
        await AssertSessionWorksAsync();
    }

    [Fact]
    public async Task More_steps_than_the_in_flight_limit_are_refused_as_retryable()
    {
        var spin = await _client.GetBuiltinAsync("spin", Cancellation);
        var slow = new StepBuilder().Launch(spin, 1, 1).UInt64(200_000);
        var steps = Enumerable.Range(0, TestDaemon.MaxInFlightStepsPerSession + 1)
            .Select(_ => _client.SubmitAsync(slow, Cancellation).AsTask())
            .ToArray();

        var refused = await Assert.ThrowsAsync<TooManyInFlightException>(() => steps[^1]);
        Assert.True(refused.IsRetryable);
        await Task.WhenAll(steps[..^1]);
    }

    [Fact]
    public async Task A_file_shorter_than_the_region_it_claims_is_a_bad_descriptor()
    {
        using var file = MemoryFile.Create("short", 4096);
        var connection = await _daemon.ConnectRawAsync();
        await using (connection)
        {
            await RawFrames.HelloAsync(connection);
            var frame = RawFrames.Encode(MessageType.RegisterRegion, 5, new SizeMessage(1 << 20), descriptorCount: 1);
            await connection.SendAsync(frame, [file], Cancellation);

            var error = await RawFrames.ReadErrorAsync(connection);
            Assert.Equal((ErrorCode.BadDescriptor, 5u), (error.Code, error.RequestId));
        }
    }

    [Fact]
    public async Task A_handle_the_session_does_not_have_is_unknown()
    {
        await using var other = await _daemon.ConnectAsync("other");
        await using var theirs = await other.AllocateBufferAsync(4096, Cancellation);
        var connection = await _daemon.ConnectRawAsync();
        await using (connection)
        {
            await RawFrames.HelloAsync(connection);
            await connection.SendAsync(RawFrames.Encode(MessageType.FreeBuffer, 6, new HandleMessage(theirs.Handle)), Cancellation);

            var error = await RawFrames.ReadErrorAsync(connection);
            Assert.Equal((ErrorCode.UnknownHandle, 6u), (error.Code, error.RequestId));
        }

        var status = await other.GetStatusAsync(Cancellation);
        Assert.Equal(1u, Assert.Single(status.Sessions, s => s.ClientName == "other").Buffers);
    }

    [Fact]
    public async Task A_module_kernel_launched_with_an_argument_too_few_or_of_the_wrong_size_is_an_invalid_argument_and_everyone_carries_on()
    {
        await using var bystander = await _daemon.ConnectAsync("bystander");
        var ptx = Encoding.ASCII.GetBytes(".version 7.0\n.target sm_75\n.address_size 64\n.visible .entry fill_f32(.param .u64 dst, .param .f32 value, .param .u64 count)\n{\n    ret;\n}\n");
        await using var module = await _client.LoadModuleAsync(ModuleFormat.Ptx, "fill.ptx", ptx, Cancellation);
        var fill = await _client.GetFunctionAsync(module, "fill_f32", Cancellation);
        await using var buffer = await _client.AllocateBufferAsync(4096, Cancellation);

        var tooFew = await Assert.ThrowsAsync<InvalidArgumentException>(
            () => _client.SubmitAsync(new StepBuilder().Launch(fill, 1, 32).Buffer(buffer).Float32(1f), Cancellation).AsTask());
        var wrongSize = await Assert.ThrowsAsync<InvalidArgumentException>(
            () => _client.SubmitAsync(new StepBuilder().Launch(fill, 1, 32).Buffer(buffer).Float32(1f).UInt32(16), Cancellation).AsTask());

        Assert.Contains("kernel fill_f32 takes 3 arguments, the launch passed 2", tooFew.Message, StringComparison.Ordinal);
        Assert.Contains("parameter 2 of kernel fill_f32 is 8 bytes, the launch passed a 4-byte UInt32", wrongSize.Message, StringComparison.Ordinal);
        await _client.SubmitAsync(new StepBuilder().Launch(fill, 1, 32).Buffer(buffer).Float32(1f).UInt64(16), Cancellation);
        await Workloads.AxpyAsync(bystander, seed: 98, steps: 2);
        await AssertSessionWorksAsync();
    }

    private async Task AssertSessionWorksAsync() => await Workloads.AxpyAsync(_client, seed: 99, steps: 1);
}
