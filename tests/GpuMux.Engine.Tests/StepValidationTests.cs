using GpuMux.Gpu.Kernels;

namespace GpuMux.Engine.Tests;

public sealed class StepValidationTests
{
    private const ulong Bytes = 4096;

    [Fact]
    public async Task Handles_of_another_session_or_of_nothing_are_unknown()
    {
        await using var engine = await TestEngine.StartAsync();
        var (owner, _) = engine.Open();
        var (other, completions) = engine.Open();
        using var shared = new SharedMemoryFile(Bytes);
        var region = await owner.RegisterRegionAsync(shared.OpenDescriptor(), Bytes, Ct);
        var buffer = await owner.AllocateBufferAsync(Bytes, Ct);
        var fill = await owner.GetFunctionAsync(0, KernelNames.FillF32, Ct);

        var copy = await other.RunAsync(completions, step => step.AddCopyIn(region, 0, buffer, 0, Bytes));
        var launch = await other.RunAsync(completions, step => step.AddLaunch(fill, 1, 32, 0));
        var argument = await other.RunAsync(completions, step =>
        {
            step.AddLaunch(fill, 1, 32, 0);
            step.AddBufferArgument(buffer, 0);
        });

        Assert.Equal(EngineError.UnknownHandle, copy.Status);
        Assert.Contains($"region {region} is not a region of this session", copy.Message);
        Assert.Equal(EngineError.UnknownHandle, launch.Status);
        Assert.Equal(EngineError.UnknownHandle, argument.Status);
        Assert.Equal((0L, 0L), (copy.StartedAtNs, copy.EndedAtNs));
        Assert.Equal(EngineError.UnknownHandle, (await Assert.ThrowsAsync<EngineException>(() => other.FreeBufferAsync(buffer, Ct))).Error);
        Assert.Equal(EngineError.UnknownHandle, (await Assert.ThrowsAsync<EngineException>(() => other.ReleaseRegionAsync(region, Ct))).Error);
        Assert.Equal(EngineError.UnknownHandle, (await Assert.ThrowsAsync<EngineException>(() => other.UnloadModuleAsync(9, Ct))).Error);
    }

    [Theory]
    [InlineData(1, 0, Bytes, "op 1 (copy in): 4096 bytes at offset 1 overrun region")]
    [InlineData(0, 8, Bytes, "op 1 (copy in): 4096 bytes at offset 8 overrun buffer")]
    [InlineData(ulong.MaxValue, 0, 2, "overrun region")]
    [InlineData(0, 0, Bytes + 1, "overrun region")]
    public async Task A_copy_outside_its_region_or_buffer_is_refused_naming_the_op_and_the_bound(ulong regionOffset, ulong bufferOffset, ulong bytes, string expected)
    {
        await using var engine = await TestEngine.StartAsync();
        var (session, completions) = engine.Open();
        using var shared = new SharedMemoryFile(Bytes);
        var region = await session.RegisterRegionAsync(shared.OpenDescriptor(), Bytes, Ct);
        var buffer = await session.AllocateBufferAsync(Bytes, Ct);

        var completion = await session.RunAsync(completions, step =>
        {
            step.AddCopyIn(region, 0, buffer, 0, 16);
            step.AddCopyIn(region, regionOffset, buffer, bufferOffset, bytes);
        });

        Assert.Equal(EngineError.InvalidArgument, completion.Status);
        Assert.Contains(expected, completion.Message);
    }

    [Fact]
    public async Task A_pointer_argument_past_its_buffer_is_refused()
    {
        await using var engine = await TestEngine.StartAsync();
        var (session, completions) = engine.Open();
        var buffer = await session.AllocateBufferAsync(Bytes, Ct);
        var fill = await session.GetFunctionAsync(0, KernelNames.FillF32, Ct);

        var completion = await session.RunAsync(completions, step =>
        {
            step.AddLaunch(fill, 1, 32, 0);
            step.AddBufferArgument(buffer, Bytes);
            step.AddScalarArgument(1f);
            step.AddScalarArgument(1UL);
        });

        Assert.Equal(EngineError.InvalidArgument, completion.Status);
        Assert.Contains("argument 0: offset 4096 lies outside buffer", completion.Message);
    }

    [Fact]
    public async Task A_launch_the_driver_refuses_fails_its_step_alone()
    {
        await using var engine = await TestEngine.StartAsync();
        var (session, completions) = engine.Open();
        var buffer = await session.AllocateBufferAsync(Bytes, Ct);
        var fill = await session.GetFunctionAsync(0, KernelNames.FillF32, Ct);

        var badShape = await session.RunAsync(completions, step =>
        {
            step.AddLaunch(fill, 1, 2048, 0);
            step.AddBufferArgument(buffer, 0);
            step.AddScalarArgument(1f);
            step.AddScalarArgument(16UL);
        });
        var badArguments = await session.RunAsync(completions, step =>
        {
            step.AddLaunch(fill, 1, 32, 0);
            step.AddBufferArgument(buffer, 0);
            step.AddScalarArgument(1);
        });
        var fine = await session.RunAsync(completions, step =>
        {
            step.AddLaunch(fill, 1, 32, 0);
            step.AddBufferArgument(buffer, 0);
            step.AddScalarArgument(1f);
            step.AddScalarArgument(16UL);
        });

        Assert.Equal(EngineError.InvalidArgument, badShape.Status);
        Assert.Contains("op 0 (launch of function", badShape.Message);
        Assert.Contains("invalid launch", badShape.Message);
        Assert.Equal(EngineError.InvalidArgument, badArguments.Status);
        Assert.Equal(EngineError.None, fine.Status);
    }

    [Fact]
    public async Task A_step_filled_wrongly_is_refused_as_a_whole()
    {
        await using var engine = await TestEngine.StartAsync(new EngineOptions { MaxOpsPerStep = 2 });
        var (session, completions) = engine.Open();
        var spin = await session.GetFunctionAsync(0, KernelNames.Spin, Ct);

        var orphanArgument = await session.RunAsync(completions, step => step.AddScalarArgument(1UL));
        var tooMany = await session.RunAsync(completions, step =>
        {
            for (var i = 0; i < 3; i++)
            {
                step.AddLaunch(spin, 1, 32, 0);
                step.AddScalarArgument(1UL);
            }
        });
        var justRight = await session.RunAsync(completions, step =>
        {
            step.AddLaunch(spin, 1, 32, 0);
            step.AddScalarArgument(1UL);
            step.AddLaunch(spin, 1, 32, 0);
            step.AddScalarArgument(1UL);
        });

        Assert.Equal(EngineError.InvalidArgument, orphanArgument.Status);
        Assert.Contains("no launch before it", orphanArgument.Message);
        Assert.Equal(EngineError.InvalidArgument, tooMany.Status);
        Assert.Contains("3 ops; a step may have at most 2", tooMany.Message);
        Assert.Equal(EngineError.None, justRight.Status);
    }

    [Fact]
    public async Task Steps_beyond_the_in_flight_limit_are_refused()
    {
        await using var engine = await TestEngine.StartAsync(new EngineOptions { MaxInFlightStepsPerSession = 1 });
        var (session, completions) = engine.Open();
        var spin = await session.GetFunctionAsync(0, KernelNames.Spin, Ct);

        var slow = session.RentStep();
        slow.RequestId = 1;
        slow.AddLaunch(spin, 1, 32, 0);
        slow.AddScalarArgument(300_000UL);
        session.Submit(slow);
        var refused = session.RentStep();
        refused.RequestId = 2;
        session.Submit(refused);
        var results = await completions.NextAsync(2);
        var later = await session.RunAsync(completions, step => step.RequestId = 3);

        Assert.Equal((2u, EngineError.TooManyInFlight), (results[0].RequestId, results[0].Status));
        Assert.Equal((1u, EngineError.None), (results[1].RequestId, results[1].Status));
        Assert.Equal(EngineError.None, later.Status);
    }

    [Fact]
    public async Task A_step_is_submitted_once_and_only_to_the_session_it_was_rented_from()
    {
        await using var engine = await TestEngine.StartAsync();
        var (session, completions) = engine.Open();
        var (other, _) = engine.Open();

        var step = session.RentStep();
        session.Submit(step);
        await completions.NextAsync();

        Assert.Throws<InvalidOperationException>(() => session.Submit(step));
        Assert.Throws<InvalidOperationException>(() => other.Submit(session.RentStep()));
    }
}
