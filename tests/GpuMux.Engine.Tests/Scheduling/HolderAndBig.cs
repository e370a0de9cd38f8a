using GpuMux.Engine.Scheduling;
using GpuMux.Engine.Tests.Models;

namespace GpuMux.Engine.Tests.Scheduling;

/// <summary>An engine with a holder of model "a" (16 pages) and another tenant of "big" (43), which fits only once "a" goes.</summary>
internal sealed class HolderAndBig : IAsyncDisposable
{
    private HolderAndBig(GpuEngine engine, ModelTenant holder, ModelTenant other) => (Engine, Holder, Other) = (engine, holder, other);

    public GpuEngine Engine { get; }

    public ModelTenant Holder { get; }

    public ModelTenant Other { get; }

    public static async Task<HolderAndBig> StartAsync(SchedulingOptions scheduling)
    {
        var engine = await ModelEngine.StartAsync(options => options with { Scheduling = scheduling });
        var pair = new HolderAndBig(
            engine,
            await ModelTenant.OpenAsync(engine, TestEngine.Identity with { Uid = 7001 }),
            await ModelTenant.OpenAsync(engine, TestEngine.Identity with { Uid = 7002 }));
        await pair.Holder.RegisterAsync(ModelEngine.Sized("a", 1));
        await pair.Other.RegisterAsync(ModelEngine.Big("big", 9));
        return pair;
    }

    public async ValueTask DisposeAsync()
    {
        await Other.DisposeAsync();
        await Holder.DisposeAsync();
        await Engine.DisposeAsync();
    }
}
