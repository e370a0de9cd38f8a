using GpuMux.Gpu;
using GpuMux.Gpu.Kernels;
using GpuMux.Gpu.Sim;

namespace GpuMux.Engine.Tests;

/// <summary>
/// A kernel writing far past its buffer is an illegal address: sticky, so the engine resets the
/// device and replaces the context once the new one has computed a check correctly. Sessions
/// keep their handles and carry on; their buffers come back zeroed, which each session that has
/// buffers is told once, by a <see cref="EngineError.DeviceReset"/>. A device that does not come
/// back is lost: every step and request fails with <see cref="EngineError.DeviceLost"/>.
/// </summary>
public sealed class FaultRecoveryTests
{
    private const int Count = 1024;
    private const ulong Bytes = Count * sizeof(float);

    [Fact]
    public async Task The_faulting_step_fails_alone_and_every_session_carries_on_after_the_reset()
    {
        await using var engine = await TestEngine.StartAsync(TestEngine.TrustingModules());
        var culprit = await Tenant.OpenAsync(engine);
        var bystander = await Tenant.OpenAsync(engine);
        Assert.Equal(EngineError.None, (await bystander.FillAsync(2f)).Status);
        Assert.Equal(Enumerable.Repeat(2f, Count), bystander.Shared.Read<float>(Bytes, Count));
        var before = await engine.GetStatusAsync(Ct);

        var fault = await culprit.RunAsync(step => culprit.AddRunaway(step));

        Assert.Equal(EngineError.KernelFault, fault.Status);
        Assert.Contains("illegal address", fault.Message);
        Assert.Equal(EngineError.DeviceReset, (await bystander.CopyOutAsync()).Status);
        Assert.Equal(EngineError.None, (await bystander.CopyOutAsync()).Status);
        Assert.Equal(new float[Count], bystander.Shared.Read<float>(Bytes, Count));
        foreach (var tenant in new[] { culprit, bystander })
        {
            Assert.Equal(EngineError.None, (await tenant.AxpyAsync(1.5f)).Status);
            var expected = tenant.Y.ToArray();
            KernelReference.Axpy(expected, tenant.X, 1.5f);
            Assert.Equal(expected, tenant.Shared.Read<float>(Bytes, Count));
        }
        var after = await engine.GetStatusAsync(Ct);
        Assert.Equal(before.FreeBytes, after.FreeBytes);
        Assert.Equal(before.Sessions.Select(s => (s.Buffers, s.Regions)), after.Sessions.Select(s => (s.Buffers, s.Regions)));
    }

    [Fact]
    public async Task A_session_that_keeps_state_in_its_buffers_is_told_of_the_reset_rather_than_computing_on_zeros()
    {
        await using var engine = await TestEngine.StartAsync(TestEngine.TrustingModules());
        var culprit = await Tenant.OpenAsync(engine);
        var bystander = await Tenant.OpenAsync(engine);
        Assert.Equal(EngineError.None, (await bystander.UploadYAsync()).Status);
        Assert.Equal(EngineError.None, (await bystander.AccumulateAsync(1f)).Status);

        Assert.Equal(EngineError.KernelFault, (await culprit.RunAsync(culprit.AddRunaway)).Status);
        var afterReset = await bystander.AccumulateAsync(1f);

        // Its y is zero now: run, the step would have returned x for y + x, and said it succeeded.
        Assert.Equal(EngineError.DeviceReset, afterReset.Status);
        Assert.Contains("buffers read as zero", afterReset.Message);
        Assert.Equal(EngineError.None, (await bystander.UploadYAsync()).Status);
        Assert.Equal(EngineError.None, (await bystander.AccumulateAsync(2f)).Status);
        var expected = bystander.Y.ToArray();
        KernelReference.Axpy(expected, bystander.X, 2f);
        Assert.Equal(expected, bystander.Shared.Read<float>(Bytes, Count));
    }

    [Fact]
    public async Task A_fault_with_steps_of_several_sessions_on_the_device_fails_each_as_a_retryable_reset()
    {
        await using var engine = await TestEngine.StartAsync(TestEngine.TrustingModules());
        var culprit = await Tenant.OpenAsync(engine);
        var bystander = await Tenant.OpenAsync(engine);

        // The culprit's fill runs after its spin, by which time the bystander's step is queued behind it.
        var faulting = culprit.Session.RentStep();
        culprit.AddSpin(faulting, 300_000);
        culprit.AddRunaway(faulting);
        culprit.Session.Submit(faulting);
        var waiting = bystander.Session.RentStep();
        bystander.AddSpin(waiting, 1_000);
        bystander.Session.Submit(waiting);

        var culpritResult = await culprit.Completions.NextAsync();
        var bystanderResult = await bystander.Completions.NextAsync();
        Assert.Equal(EngineError.DeviceReset, culpritResult.Status);
        Assert.Equal(EngineError.DeviceReset, bystanderResult.Status);
        Assert.Contains("cannot be pinned on one of them; retry", bystanderResult.Message);
        Assert.Equal(EngineError.None, (await culprit.FillAsync(4f)).Status);
        Assert.Equal(EngineError.None, (await bystander.FillAsync(5f)).Status);
        Assert.Equal(Enumerable.Repeat(5f, Count), bystander.Shared.Read<float>(Bytes, Count));
    }

    [Fact]
    public async Task A_fault_resets_the_device_and_sessions_carry_on_once_the_new_context_has_computed_its_check()
    {
        var backend = Backend(SimResetOutcome.Recovers);
        await using var engine = await GpuEngine.StartAsync(backend, TestEngine.TrustingModules(), cancellationToken: Ct);
        var culprit = await Tenant.OpenAsync(engine);

        var fault = await culprit.RunAsync(step => culprit.AddRunaway(step));

        Assert.Equal(EngineError.KernelFault, fault.Status);
        Assert.Equal(1, backend.Resets(0));
        Assert.Equal(EngineError.None, (await culprit.AxpyAsync(2f)).Status);
        var expected = culprit.Y.ToArray();
        KernelReference.Axpy(expected, culprit.X, 2f);
        Assert.Equal(expected, culprit.Shared.Read<float>(Bytes, Count));
        Assert.False(engine.DeviceLost.IsCompleted);
    }

    [Fact]
    public async Task A_device_whose_new_context_fails_its_check_is_lost_and_every_step_and_later_request_fails_with_DeviceLost()
    {
        var backend = Backend(SimResetOutcome.KernelsDoNotRun);
        await using var engine = await GpuEngine.StartAsync(backend, TestEngine.TrustingModules(), cancellationToken: Ct);
        var culprit = await Tenant.OpenAsync(engine);
        var bystander = await Tenant.OpenAsync(engine);

        // The culprit's fill runs after its spin. Meanwhile the bystander's first step is on the
        // device beside it (two steps of a class may be), and its second is held behind that.
        var faulting = culprit.Session.RentStep();
        culprit.AddSpin(faulting, 300_000);
        culprit.AddRunaway(faulting);
        culprit.Session.Submit(faulting);
        foreach (var microseconds in new ulong[] { 1_000, 2_000 })
        {
            var waiting = bystander.Session.RentStep();
            bystander.AddSpin(waiting, microseconds);
            bystander.Session.Submit(waiting);
        }

        var reason = await engine.DeviceLost.WaitAsync(Ct);

        Assert.Contains("wrong axpy", reason);
        Assert.Equal(1, backend.Resets(0));
        Assert.Equal(EngineError.DeviceLost, (await culprit.Completions.NextAsync()).Status);
        var bystanderResults = await bystander.Completions.NextAsync(2);
        Assert.All(bystanderResults, result => Assert.Equal(EngineError.DeviceLost, result.Status));
        Assert.Contains("could not be set up again", bystanderResults[1].Message);
        Assert.Equal(EngineError.DeviceLost, (await bystander.FillAsync(3f)).Status);
        var refused = await Assert.ThrowsAsync<EngineException>(() => bystander.Session.AllocateBufferAsync(Bytes, Ct));
        Assert.Equal(EngineError.DeviceLost, refused.Error);
    }

    [Fact]
    public async Task A_device_that_fails_its_reset_is_lost_but_the_step_that_faulted_it_is_still_told_KernelFault()
    {
        var backend = Backend(SimResetOutcome.ResetFails);
        await using var engine = await GpuEngine.StartAsync(backend, TestEngine.TrustingModules(), cancellationToken: Ct);
        var culprit = await Tenant.OpenAsync(engine);

        var fault = await culprit.RunAsync(step => culprit.AddRunaway(step));

        Assert.Equal(EngineError.KernelFault, fault.Status);
        Assert.Contains("could not be set up again", fault.Message);
        Assert.Contains("did not come back from its reset", await engine.DeviceLost.WaitAsync(Ct));
        Assert.Equal(EngineError.DeviceLost, (await culprit.AxpyAsync(1f)).Status);
        var refused = await Assert.ThrowsAsync<EngineException>(() => culprit.Session.GetFunctionAsync(0, KernelNames.FillF32, Ct));
        Assert.Equal(EngineError.DeviceLost, refused.Error);
    }

    private static SimBackend Backend(SimResetOutcome afterReset) =>
        (SimBackend)GpuBackends.CreateSim(new GpuBackendOptions
        {
            ModuleCacheDirectory = null,
            Sim = new SimDeviceOptions { CapacityBytes = TestEngine.Capacity, AfterReset = afterReset },
        });

    /// <summary>A session with a region holding x at 0 and the output at <see cref="Bytes"/>, and buffers for x and y.</summary>
    private sealed class Tenant
    {
        private uint _region;
        private uint _x;
        private uint _y;
        private uint _fill;
        private uint _axpy;
        private uint _spin;
        private uint _runaway;

        private Tenant(EngineSession session, CompletionRecorder completions)
        {
            Session = session;
            Completions = completions;
        }

        public EngineSession Session { get; }

        public CompletionRecorder Completions { get; }

        public SharedMemoryFile Shared { get; } = new(3 * Bytes);

        public float[] X { get; } = TestData.Floats(10, Count);

        public float[] Y { get; } = TestData.Floats(11, Count);

        public static async Task<Tenant> OpenAsync(GpuEngine engine)
        {
            var (session, completions) = engine.Open();
            var tenant = new Tenant(session, completions);
            tenant.Shared.Write<float>(0, tenant.X);
            tenant.Shared.Write<float>(2 * Bytes, tenant.Y);
            tenant._region = await session.RegisterRegionAsync(tenant.Shared.OpenDescriptor(), tenant.Shared.Length, Ct);
            tenant._x = await session.AllocateBufferAsync(Bytes, Ct);
            tenant._y = await session.AllocateBufferAsync(Bytes, Ct);
            tenant._fill = await session.GetFunctionAsync(0, KernelNames.FillF32, Ct);
            tenant._axpy = await session.GetFunctionAsync(0, KernelNames.AxpyF32, Ct);
            tenant._spin = await session.GetFunctionAsync(0, KernelNames.Spin, Ct);
            tenant._runaway = await RunawayFill.LoadAsync(session);
            return tenant;
        }

        public Task<StepCompletion> RunAsync(Action<Step> fill) => Session.RunAsync(Completions, fill);

        public Task<StepCompletion> FillAsync(float value) => RunAsync(step =>
        {
            AddFill(step, value);
            step.AddCopyOut(_y, 0, _region, Bytes, Bytes);
        });

        public Task<StepCompletion> CopyOutAsync() => RunAsync(step => step.AddCopyOut(_y, 0, _region, Bytes, Bytes));

        /// <summary>Puts y on the device, where <see cref="AccumulateAsync"/> keeps it.</summary>
        public Task<StepCompletion> UploadYAsync() => RunAsync(step => step.AddCopyIn(_region, 2 * Bytes, _y, 0, Bytes));

        /// <summary>y += a*x with the y already on the device, as a session keeps state between steps; copies y out.</summary>
        public Task<StepCompletion> AccumulateAsync(float a) => RunAsync(step =>
        {
            step.AddCopyIn(_region, 0, _x, 0, Bytes);
            AddAxpy(step, a);
            step.AddCopyOut(_y, 0, _region, Bytes, Bytes);
        });

        public Task<StepCompletion> AxpyAsync(float a) => RunAsync(step =>
        {
            step.AddCopyIn(_region, 0, _x, 0, Bytes);
            step.AddCopyIn(_region, 2 * Bytes, _y, 0, Bytes);
            AddAxpy(step, a);
            step.AddCopyOut(_y, 0, _region, Bytes, Bytes);
        });

        public void AddFill(Step step, float value)
        {
            step.AddLaunch(_fill, 4, 256, 0);
            step.AddBufferArgument(_y, 0);
            step.AddScalarArgument(value);
            step.AddScalarArgument((ulong)Count);
        }

        /// <summary>A fill from y far past its size, outside any allocation: an illegal address.</summary>
        public void AddRunaway(Step step) => RunawayFill.Add(step, _runaway, _y);

        public void AddSpin(Step step, ulong microseconds)
        {
            step.AddLaunch(_spin, 1, 32, 0);
            step.AddScalarArgument(microseconds);
        }

        private void AddAxpy(Step step, float a)
        {
            step.AddLaunch(_axpy, 4, 256, 0);
            step.AddBufferArgument(_y, 0);
            step.AddBufferArgument(_x, 0);
            step.AddScalarArgument(a);
            step.AddScalarArgument((ulong)Count);
        }
    }
}
