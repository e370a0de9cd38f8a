using GpuMux.Engine;
using GpuMux.Gpu;
using GpuMux.Gpu.Sim;
using GpuMux.Robustness.Linux;

namespace GpuMux.Robustness.Safetensors;

/// <summary>
/// Registers files with the engine in this process, the path RegisterModel takes in the daemon
/// below the socket (the header read and checked off the engine thread, then staged), for speed.
/// </summary>
internal sealed class EngineRegistrar : IAsyncDisposable
{
    private readonly GpuEngine _engine;
    private readonly EngineSession _session;
    private int _registered;

    private EngineRegistrar(GpuEngine engine)
    {
        _engine = engine;
        _session = engine.OpenSession(new SessionIdentity(0, 0, Environment.ProcessId, "robustness"), new NoCompletions());
    }

    public static async Task<EngineRegistrar> StartAsync(CancellationToken cancellationToken)
    {
        var backend = GpuBackends.CreateSim(new GpuBackendOptions { ModuleCacheDirectory = null, Sim = new SimDeviceOptions { CapacityBytes = 256 << 20 } });
        var engine = await GpuEngine.StartAsync(backend, new EngineOptions { DevicePoolBytes = 64 << 20, PinnedPoolBytes = 64 << 20 }, cancellationToken: cancellationToken);
        return new EngineRegistrar(engine);
    }

    public async Task<RegistrationOutcome> RegisterAsync(SafetensorsCase file, CancellationToken cancellationToken)
    {
        using var memfd = OddDescriptor.Create(DescriptorKind.SealableMemfd, file.File);
        ModelRegistration registration;
        try
        {
            // The engine takes the descriptor, whatever the outcome.
            registration = await _session.RegisterModelAsync(memfd.Handle, $"m{++_registered}", null, null, cancellationToken);
        }
        catch (EngineException e)
        {
            return new RegistrationOutcome(null, 0, new Dictionary<string, ulong>(), $"{e.Error}: {e.Message}", e.Error == EngineError.InvalidModel);
        }

        try
        {
            var sizes = new Dictionary<string, ulong>();
            foreach (var tensor in file.Tensors)
            {
                sizes[tensor.Name] = (await _session.GetTensorAsync(registration.Model, tensor.Name, cancellationToken)).Bytes;
            }

            return new RegistrationOutcome(registration.TensorCount, registration.Bytes, sizes, null, false);
        }
        finally
        {
            await _session.UnregisterModelAsync(registration.Model, cancellationToken);
        }
    }

    public async ValueTask DisposeAsync()
    {
        await _session.DisposeAsync();
        await _engine.DisposeAsync();
    }

    private sealed class NoCompletions : IStepCompletionSink
    {
        public void OnStepCompleted(in StepCompletion completion)
        {
        }
    }
}
