using System.Text;
using GpuMux.Gpu.Kernels;

namespace GpuMux.Engine.Tests;

public sealed class LifecycleTests
{
    [Fact]
    public async Task Closing_a_session_with_steps_on_the_device_waits_for_them_and_returns_device_memory_to_the_baseline()
    {
        await using var engine = await TestEngine.StartAsync(TestEngine.TrustingModules());
        var baseline = await engine.GetStatusAsync(Ct);
        var (session, completions) = engine.Open();
        using var shared = new SharedMemoryFile(1 << 20);
        await session.RegisterRegionAsync(shared.OpenDescriptor(), shared.Length, Ct);
        var buffers = new[] { await session.AllocateBufferAsync(1 << 20, Ct), await session.AllocateBufferAsync(3 << 20, Ct), await session.AllocateBufferAsync(100, Ct) };
        var module = await session.LoadModuleAsync(ModuleFormat.CudaC, "fill.cu", Encoding.UTF8.GetBytes("extern \"C\" __global__ void fill_f32(float* p, float v, unsigned long long n) {}\n"), Ct);
        var fill = await session.GetFunctionAsync(module.Module, KernelNames.FillF32, Ct);
        var spin = await session.GetFunctionAsync(0, KernelNames.Spin, Ct);
        var held = await engine.GetStatusAsync(Ct);
        // As many steps as the scheduler puts on the device at once from one class.
        for (var i = 0u; i < 2; i++)
        {
            var step = session.RentStep();
            step.RequestId = i;
            step.AddLaunch(spin, 1, 32, 0);
            step.AddScalarArgument(50_000UL);
            step.AddLaunch(fill, 4, 256, 0);
            step.AddBufferArgument(buffers[i], 0);
            step.AddScalarArgument(1f);
            step.AddScalarArgument(25UL);
            session.Submit(step);
        }
        await WhileAsync(engine, status => status.Sessions[0].StepsRunning < 2);

        await session.DisposeAsync();

        Assert.True(held.DevicePoolFreeBytes < baseline.DevicePoolFreeBytes);
        Assert.Equal((4UL << 20) + 100, held.SessionBytes);
        Assert.All(await completions.NextAsync(2), c => Assert.Equal(EngineError.None, c.Status));
        var after = await engine.GetStatusAsync(Ct);
        Assert.Equal(baseline.DevicePoolFreeBytes, after.DevicePoolFreeBytes);
        Assert.Equal(0ul, after.SessionBytes);
        Assert.Empty(after.Sessions);
        Assert.Throws<ObjectDisposedException>(() => session.Submit(session.RentStep()));
        Assert.Equal(EngineError.ShuttingDown, (await Assert.ThrowsAsync<EngineException>(() => session.AllocateBufferAsync(16, Ct))).Error);
    }

    [Fact]
    public async Task Closing_a_session_fails_its_queued_steps()
    {
        await using var engine = await TestEngine.StartAsync();
        var (session, completions) = engine.Open();
        var held = completions.HoldNextCompletion();
        session.Submit(Step(session, 1));
        await held;

        session.Submit(Step(session, 2));
        var closing = session.DisposeAsync().AsTask();
        completions.Release();
        await closing;

        var results = await completions.NextAsync(2);
        Assert.Equal(EngineError.None, results[0].Status);
        Assert.Equal((2u, EngineError.ShuttingDown), (results[1].RequestId, results[1].Status));
        Assert.Contains("session is closing", results[1].Message);
    }

    [Fact]
    public async Task Closing_a_session_for_its_protocol_violation_fails_its_queued_steps_saying_so()
    {
        await using var engine = await TestEngine.StartAsync();
        var (session, completions) = engine.Open();
        var held = completions.HoldNextCompletion();
        session.Submit(Step(session, 1));
        await held;

        session.Submit(Step(session, 2));
        var closing = session.CloseForViolationAsync("a frame with non-zero header flags").AsTask();
        completions.Release();
        await closing;

        var results = await completions.NextAsync(2);
        Assert.Equal(EngineError.None, results[0].Status);
        Assert.Equal((2u, EngineError.ProtocolViolation), (results[1].RequestId, results[1].Status));
        Assert.Equal("the session was closed for its protocol violation: a frame with non-zero header flags", results[1].Message);
    }

    [Fact]
    public async Task Disposing_the_engine_fails_queued_steps_and_requests()
    {
        var engine = await TestEngine.StartAsync();
        var (session, completions) = engine.Open();
        var held = completions.HoldNextCompletion();
        session.Submit(Step(session, 1));
        await held;

        session.Submit(Step(session, 2));
        var disposing = engine.DisposeAsync().AsTask();
        session.Submit(Step(session, 3));
        var request = session.AllocateBufferAsync(16, Ct);
        completions.Release();
        await disposing;

        var results = await completions.NextAsync(3);
        Assert.Equal(EngineError.None, results[0].Status);
        Assert.Equal((2u, EngineError.ShuttingDown), (results[1].RequestId, results[1].Status));
        Assert.Equal((3u, EngineError.ShuttingDown), (results[2].RequestId, results[2].Status));
        Assert.Equal(EngineError.ShuttingDown, (await Assert.ThrowsAsync<EngineException>(() => request)).Error);
        Assert.Throws<ObjectDisposedException>(() => session.Submit(session.RentStep()));
        Assert.Throws<ObjectDisposedException>(() => engine.OpenSession(TestEngine.Identity, completions));
        await session.DisposeAsync();
    }

    [Fact]
    public async Task Steps_on_the_device_when_the_engine_stops_complete()
    {
        var engine = await TestEngine.StartAsync();
        var (session, completions) = engine.Open();
        var spin = await session.GetFunctionAsync(0, KernelNames.Spin, Ct);
        var step = Step(session, 1);
        step.AddLaunch(spin, 1, 32, 0);
        step.AddScalarArgument(50_000UL);
        session.Submit(step);
        await WhileAsync(engine, status => status.Sessions[0].StepsRunning == 0);

        await engine.DisposeAsync();

        Assert.Equal(EngineError.None, (await completions.NextAsync()).Status);
    }

    private static async Task WhileAsync(GpuEngine engine, Func<EngineStatus, bool> condition)
    {
        while (condition(await engine.GetStatusAsync(Ct)))
        {
            await Task.Yield();
        }
    }

    private static Step Step(EngineSession session, uint requestId)
    {
        var step = session.RentStep();
        step.RequestId = requestId;
        return step;
    }
}
