using System.Runtime.InteropServices;
using System.Text;
using GpuMux.Gpu.Kernels;

namespace GpuMux.Engine.Tests;

public sealed class StepExecutionTests
{
    private const int Count = 1000;
    private const ulong Bytes = Count * sizeof(float);

    [Fact]
    public async Task A_step_copies_in_runs_the_built_in_kernels_and_copies_out_what_the_reference_computes()
    {
        await using var engine = await TestEngine.StartAsync();
        var (session, completions) = engine.Open();
        using var shared = new SharedMemoryFile(64 << 10);
        var x = TestData.Floats(1, Count);
        var y = TestData.Floats(2, Count);
        shared.Write<float>(0, x);
        shared.Write<float>(4096, y);
        var region = await session.RegisterRegionAsync(shared.OpenDescriptor(), shared.Length, Ct);
        var bufferX = await session.AllocateBufferAsync(Bytes, Ct);
        var bufferY = await session.AllocateBufferAsync(Bytes, Ct);
        var filled = await session.AllocateBufferAsync(Bytes, Ct);
        var sum = await session.AllocateBufferAsync(sizeof(ulong), Ct);
        var axpy = await session.GetFunctionAsync(0, KernelNames.AxpyF32, Ct);
        var fill = await session.GetFunctionAsync(0, KernelNames.FillF32, Ct);
        var checksum = await session.GetFunctionAsync(0, KernelNames.Checksum, Ct);
        const float A = 0.75f;

        var completion = await session.RunAsync(completions, step =>
        {
            step.RequestId = 7;
            step.AddCopyIn(region, 0, bufferX, 0, Bytes);
            step.AddCopyIn(region, 4096, bufferY, 0, Bytes);
            step.AddLaunch(axpy, 4, 256, 0);
            step.AddBufferArgument(bufferY, 0);
            step.AddBufferArgument(bufferX, 0);
            step.AddScalarArgument(A);
            step.AddScalarArgument((ulong)Count);
            step.AddLaunch(fill, 4, 256, 0);
            step.AddBufferArgument(filled, 0);
            step.AddScalarArgument(3.5f);
            step.AddScalarArgument((ulong)Count);
            step.AddLaunch(checksum, 4, 256, 0);
            step.AddBufferArgument(bufferY, 0);
            step.AddScalarArgument(Bytes);
            step.AddBufferArgument(sum, 0);
            step.AddCopyOut(bufferY, 0, region, 8192, Bytes);
            step.AddCopyOut(filled, 0, region, 12288, Bytes);
            step.AddCopyOut(sum, 0, region, 16384, sizeof(ulong));
        });

        Assert.Equal(7u, completion.RequestId);
        Assert.Equal(EngineError.None, completion.Status);
        Assert.Null(completion.Message);
        var expected = y.ToArray();
        KernelReference.Axpy(expected, x, A);
        Assert.Equal(expected, shared.Read<float>(8192, Count));
        Assert.Equal(Enumerable.Repeat(3.5f, Count), shared.Read<float>(12288, Count));
        Assert.Equal(KernelReference.Checksum(MemoryMarshal.AsBytes(expected.AsSpan())), shared.Read<ulong>(16384, 1)[0]);
    }

    [Fact]
    public async Task An_empty_step_completes_with_device_times_on_the_host_clock()
    {
        await using var engine = await TestEngine.StartAsync();
        var (session, completions) = engine.Open();

        var completion = await session.RunAsync(completions, step => step.RequestId = 1);

        Assert.Equal(EngineError.None, completion.Status);
        Assert.True(completion.QueuedAtNs > 0);
        Assert.True(completion.StartedAtNs > 0);
        Assert.True(completion.StartedAtNs <= completion.EndedAtNs);
    }

    [Fact]
    public async Task Pipelined_steps_of_a_session_complete_in_submission_order()
    {
        await using var engine = await TestEngine.StartAsync();
        var (session, completions) = engine.Open();

        for (var i = 1u; i <= 40; i++)
        {
            var step = session.RentStep();
            step.RequestId = i;
            session.Submit(step);
        }
        var results = await completions.NextAsync(40);

        Assert.Equal(Enumerable.Range(1, 40).Select(i => (uint)i), results.Select(c => c.RequestId));
        Assert.All(results, c => Assert.Equal(EngineError.None, c.Status));
    }

    [Fact]
    public async Task Steps_of_a_session_that_end_together_are_delivered_in_submission_order()
    {
        // Enough steps on the device at once that they end in one burst behind the spin, seconds
        // after the anchor they are measured from, where a float of milliseconds no longer tells
        // their end times apart.
        const int Steps = 64;
        await using var engine = await TestEngine.StartAsync(new EngineOptions { Scheduling = new() { StepsOnDevicePerClass = Steps } });
        var (session, completions) = engine.Open();
        var spin = await session.GetFunctionAsync(0, KernelNames.Spin, Ct);

        for (var i = 0u; i < Steps; i++)
        {
            var step = session.RentStep();
            step.RequestId = i;
            if (i == 0)
            {
                step.AddLaunch(spin, 1, 32, 0);
                step.AddScalarArgument(2_000_000UL);
            }
            session.Submit(step);
        }
        var results = await completions.NextAsync(Steps);

        Assert.Equal(Enumerable.Range(0, Steps).Select(i => (uint)i), results.Select(c => c.RequestId));
        Assert.All(results.Skip(1).Zip(results), pair => Assert.True(pair.First.StartedAtNs >= pair.Second.EndedAtNs, "a step of a session starts once the one before it has ended"));
    }

    [Fact]
    public async Task Renting_filling_and_submitting_a_warm_step_allocates_nothing()
    {
        const int Burst = 16;
        await using var engine = await TestEngine.StartAsync();
        var (session, completions) = engine.Open();
        var buffer = await session.AllocateBufferAsync(Bytes, Ct);
        var fill = await session.GetFunctionAsync(0, KernelNames.FillF32, Ct);

        long allocated = 0;
        for (var round = 0; round < 3; round++)
        {
            var before = GC.GetAllocatedBytesForCurrentThread();
            for (var i = 0; i < Burst; i++)
            {
                var step = session.RentStep();
                step.RequestId = (uint)i;
                step.AddLaunch(fill, 4, 256, 0);
                step.AddBufferArgument(buffer, 0);
                step.AddScalarArgument(1f);
                step.AddScalarArgument((ulong)Count);
                session.Submit(step);
            }
            allocated = GC.GetAllocatedBytesForCurrentThread() - before;
            Assert.All(await completions.NextAsync(Burst), c => Assert.Equal(EngineError.None, c.Status));
        }

        Assert.Equal(0, allocated);
    }

    [Fact]
    public async Task A_CUDA_C_module_is_compiled_loaded_from_the_cache_the_second_time_and_run()
    {
        var cache = Directory.CreateTempSubdirectory("gpumux-engine-tests-");
        try
        {
            await using var engine = await TestEngine.StartAsync(TestEngine.TrustingModules(), cache.FullName);
            var (session, completions) = engine.Open();
            const string Source = """
                // y = a*x + y, as a client would write it
                extern "C" __global__ void axpy_f32(float* y, const float* x, float a, unsigned long long count)
                {
                    for (unsigned long long i = blockIdx.x * blockDim.x + threadIdx.x; i < count; i += gridDim.x * blockDim.x)
                    {
                        y[i] = a * x[i] + y[i];
                    }
                }
                """;

            var first = await session.LoadModuleAsync(ModuleFormat.CudaC, "client_axpy.cu", Encoding.UTF8.GetBytes(Source), Ct);
            var second = await session.LoadModuleAsync(ModuleFormat.CudaC, "client_axpy.cu", Encoding.UTF8.GetBytes(Source), Ct);
            var axpy = await session.GetFunctionAsync(first.Module, KernelNames.AxpyF32, Ct);

            Assert.False(first.FromCache);
            Assert.True(second.FromCache);
            Assert.NotEqual(first.Module, second.Module);
            Assert.NotEqual(0u, first.Module);

            using var shared = new SharedMemoryFile(3 * 4096);
            var x = TestData.Floats(3, Count);
            var y = TestData.Floats(4, Count);
            shared.Write<float>(0, x);
            shared.Write<float>(4096, y);
            var region = await session.RegisterRegionAsync(shared.OpenDescriptor(), shared.Length, Ct);
            var bufferX = await session.AllocateBufferAsync(Bytes, Ct);
            var bufferY = await session.AllocateBufferAsync(Bytes, Ct);
            var completion = await session.RunAsync(completions, step =>
            {
                step.AddCopyIn(region, 0, bufferX, 0, Bytes);
                step.AddCopyIn(region, 4096, bufferY, 0, Bytes);
                step.AddLaunch(axpy, 4, 256, 0);
                step.AddBufferArgument(bufferY, 0);
                step.AddBufferArgument(bufferX, 0);
                step.AddScalarArgument(-2f);
                step.AddScalarArgument((ulong)Count);
                step.AddCopyOut(bufferY, 0, region, 8192, Bytes);
            });

            Assert.Equal(EngineError.None, completion.Status);
            KernelReference.Axpy(y, x, -2f);
            Assert.Equal(y, shared.Read<float>(8192, Count));
        }
        finally
        {
            cache.Delete(recursive: true);
        }
    }

    [Fact]
    public async Task A_buffer_freed_while_a_step_uses_it_stays_until_the_step_is_done()
    {
        await using var engine = await TestEngine.StartAsync();
        var (session, completions) = engine.Open();
        var buffer = await session.AllocateBufferAsync(Bytes, Ct);
        var spin = await session.GetFunctionAsync(0, KernelNames.Spin, Ct);
        var fill = await session.GetFunctionAsync(0, KernelNames.FillF32, Ct);

        var step = session.RentStep();
        step.AddLaunch(spin, 1, 32, 0);
        step.AddScalarArgument(100_000UL);
        step.AddLaunch(fill, 4, 256, 0);
        step.AddBufferArgument(buffer, 0);
        step.AddScalarArgument(1f);
        step.AddScalarArgument((ulong)Count);
        session.Submit(step);
        await session.FreeBufferAsync(buffer, Ct);

        Assert.Equal(EngineError.None, (await completions.NextAsync()).Status);
        var reuse = await session.RunAsync(completions, next =>
        {
            next.AddLaunch(fill, 4, 256, 0);
            next.AddBufferArgument(buffer, 0);
            next.AddScalarArgument(1f);
            next.AddScalarArgument((ulong)Count);
        });
        Assert.Equal(EngineError.UnknownHandle, reuse.Status);
        Assert.Equal(0ul, (await engine.GetStatusAsync(Ct)).SessionBytes);
    }
}
