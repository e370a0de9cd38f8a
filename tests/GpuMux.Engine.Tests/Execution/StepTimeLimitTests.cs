using GpuMux.Engine.Scheduling;
using GpuMux.Gpu;
using GpuMux.Gpu.Kernels;
using GpuMux.Gpu.Sim;

namespace GpuMux.Engine.Tests.Execution;

/// <summary>
/// A step's device time is bounded by its class's limit. Nothing stops a kernel on a GPU but a
/// reset, so the device is reset through the fault recovery. A step past its limit alone on the
/// device fails with <see cref="EngineError.StepTimedOut"/>; beside other steps, which of them
/// holds the device cannot be told, and all fail with the retryable <see cref="EngineError.DeviceReset"/>.
/// </summary>
public sealed class StepTimeLimitTests
{
    private const int Count = 4096;
    private const ulong Bytes = Count * sizeof(float);
    private const ulong Endless = 60_000_000;
    private static readonly TimeSpan Limit = TimeSpan.FromMilliseconds(300);

    [Fact]
    public async Task A_step_alone_on_the_device_past_its_class_limit_fails_with_StepTimedOut_and_the_device_recovers()
    {
        var backend = Backend();
        await using var engine = await GpuEngine.StartAsync(backend, Options(), cancellationToken: Ct);
        var (spinner, spinnerCompletions) = engine.Open();
        var bystander = await Axpy.OpenAsync(engine);
        await bystander.RunVerifiedAsync(1);

        await SubmitSpinAsync(spinner, Endless);
        var timedOut = await spinnerCompletions.NextAsync();
        var retried = await bystander.RunVerifiedAsync(3);

        Assert.Equal(EngineError.StepTimedOut, timedOut.Status);
        Assert.Contains("the step was on the device for more than the limit of class standard", timedOut.Message);
        Assert.Equal(1, backend.Resets(0));
        // The bystander's buffers were zeroed under it: its next step said so, once.
        Assert.Equal([EngineError.DeviceReset], retried);
        Assert.Equal(EngineError.None, (await spinner.RunAsync(spinnerCompletions, step => { })).Status);
    }

    [Fact]
    public async Task A_step_past_its_class_limit_beside_another_fails_with_it_as_a_retryable_reset_and_the_bystander_carries_on()
    {
        var backend = Backend();
        await using var engine = await GpuEngine.StartAsync(backend, Options(), cancellationToken: Ct);
        var (spinner, spinnerCompletions) = engine.Open();
        var bystander = await Axpy.OpenAsync(engine);
        await bystander.RunVerifiedAsync(1);

        // The bystander's step waits on the device behind the spin: which of the two holds the
        // device cannot be told, so neither is blamed.
        await SubmitSpinAsync(spinner, Endless);
        var retried = await bystander.RunVerifiedAsync(3);
        var reset = await spinnerCompletions.NextAsync();

        Assert.Equal(EngineError.DeviceReset, reset.Status);
        Assert.Contains("cannot say which of them held it", reset.Message);
        Assert.Equal(1, backend.Resets(0));
        Assert.Equal([EngineError.DeviceReset], retried);
    }

    private static EngineOptions Options() => new()
    {
        Scheduling = new SchedulingOptions { Classes = [new("interactive", 0), new("standard", 0.05) { MaxStepTime = Limit }] },
    };

    private static async Task SubmitSpinAsync(EngineSession session, ulong microseconds)
    {
        var spin = await session.GetFunctionAsync(0, KernelNames.Spin, Ct);
        var step = session.RentStep();
        step.AddLaunch(spin, 1, 32, 0);
        step.AddScalarArgument(microseconds);
        session.Submit(step);
    }

    private static SimBackend Backend() =>
        (SimBackend)GpuBackends.CreateSim(new GpuBackendOptions
        {
            ModuleCacheDirectory = null,
            Sim = new SimDeviceOptions { CapacityBytes = TestEngine.Capacity },
        });

    /// <summary>A client that computes y = a*x + y from its region and checks every result against the reference.</summary>
    private sealed class Axpy
    {
        private readonly EngineSession _session;
        private readonly CompletionRecorder _completions;
        private readonly SharedMemoryFile _shared = new(3 * Bytes);
        private readonly Random _random = new(21);
        private uint _region;
        private uint _x;
        private uint _y;
        private uint _axpy;

        private Axpy(EngineSession session, CompletionRecorder completions)
        {
            _session = session;
            _completions = completions;
        }

        public static async Task<Axpy> OpenAsync(GpuEngine engine)
        {
            var (session, completions) = engine.Open();
            var client = new Axpy(session, completions);
            client._region = await session.RegisterRegionAsync(client._shared.OpenDescriptor(), client._shared.Length, Ct);
            client._x = await session.AllocateBufferAsync(Bytes, Ct);
            client._y = await session.AllocateBufferAsync(Bytes, Ct);
            client._axpy = await session.GetFunctionAsync(0, KernelNames.AxpyF32, Ct);
            return client;
        }

        /// <summary>Runs <paramref name="steps"/> steps, each until it succeeds and checking its result; returns the retryable failures met.</summary>
        public async Task<List<EngineError>> RunVerifiedAsync(int steps)
        {
            var retried = new List<EngineError>();
            for (var i = 0; i < steps; i++)
            {
                var x = TestData.Floats(_random.Next(), Count);
                var y = TestData.Floats(_random.Next(), Count);
                var a = (float)_random.NextDouble();
                _shared.Write<float>(0, x);
                _shared.Write<float>(Bytes, y);
                EngineError status;
                while ((status = (await RunAsync(a)).Status) != EngineError.None)
                {
                    retried.Add(status);
                }
                KernelReference.Axpy(y, x, a);
                Assert.Equal(y, _shared.Read<float>(2 * Bytes, Count));
            }
            return retried;
        }

        private Task<StepCompletion> RunAsync(float a) => _session.RunAsync(_completions, step =>
        {
            step.AddCopyIn(_region, 0, _x, 0, Bytes);
            step.AddCopyIn(_region, Bytes, _y, 0, Bytes);
            step.AddLaunch(_axpy, 16, 256, 0);
            step.AddBufferArgument(_y, 0);
            step.AddBufferArgument(_x, 0);
            step.AddScalarArgument(a);
            step.AddScalarArgument((ulong)Count);
            step.AddCopyOut(_y, 0, _region, 2 * Bytes, Bytes);
        });
    }
}
