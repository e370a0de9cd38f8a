using GpuMux.Engine.Tenants;
using GpuMux.Gpu.Kernels;

namespace GpuMux.Engine.Tests.Scheduling;

/// <summary>
/// A session of one tenant whose steps spin for a given modelled time on the
/// simulated device, for tests of which step goes when and what it is charged.
/// </summary>
internal sealed class SpinSession : IAsyncDisposable
{
    private readonly uint _spin;

    private SpinSession(EngineSession session, CompletionRecorder completions, uint spin)
    {
        Session = session;
        Completions = completions;
        _spin = spin;
    }

    public EngineSession Session { get; }

    public CompletionRecorder Completions { get; }

    /// <summary>A session of <paramref name="uid"/>, holding a lease of <paramref name="leaseClass"/> when one is named.</summary>
    public static async Task<SpinSession> OpenAsync(GpuEngine engine, uint uid, string? leaseClass = null)
    {
        var completions = new CompletionRecorder();
        var session = engine.OpenSession(TestEngine.Identity with { Uid = uid }, completions);
        var spin = await session.GetFunctionAsync(0, KernelNames.Spin, Ct);
        if (leaseClass is not null)
        {
            await session.AcquireLeaseAsync(new LeaseRequest(leaseClass, null, null, 0), Ct);
        }
        return new SpinSession(session, completions, spin);
    }

    /// <summary>Submits a step that spins for <paramref name="microseconds"/>, after <paramref name="fill"/> has added what it likes.</summary>
    public void Submit(uint requestId, ulong microseconds, Action<Step>? fill = null)
    {
        var step = Session.RentStep();
        step.RequestId = requestId;
        fill?.Invoke(step);
        step.AddLaunch(_spin, 1, 32, 0);
        step.AddScalarArgument(microseconds);
        Session.Submit(step);
    }

    /// <summary>Submits <paramref name="count"/> spins, numbered from <paramref name="firstRequestId"/>.</summary>
    public void SubmitMany(int count, ulong microseconds, uint firstRequestId = 0)
    {
        for (var i = 0u; i < count; i++)
        {
            Submit(firstRequestId + i, microseconds);
        }
    }

    public ValueTask DisposeAsync() => Session.DisposeAsync();
}
