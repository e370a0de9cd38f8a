using GpuMux.Client;
using GpuMux.Protocol;
using GpuMux.Protocol.Messages;

namespace GpuMux.Daemon.Tests.EndToEnd;

/// <summary>
/// Status, tenants and models as two tenants and an administrator see them: alice (uid 2001) and
/// bob (uid 2002) each see their own sessions and models in full and the other's only summed up;
/// the administrator (uid 2003) sees everyone's.
/// </summary>
public sealed class OperatorReportPrivacyTests : IAsyncLifetime
{
    private const uint Alice = 2001;
    private const uint Bob = 2002;
    private const uint Operator = 2003;

    private readonly DirectoryInfo _files = Directory.CreateTempSubdirectory("gmx-privacy-");
    private TestDaemon _daemon = null!;
    private GpuMuxClient _alice = null!;
    private GpuMuxClient _bob = null!;
    private GpuMuxClient _admin = null!;

    private static CancellationToken Cancellation => TestContext.Current.CancellationToken;

    public async ValueTask InitializeAsync()
    {
        _daemon = await TestDaemon.StartAsync();
        _alice = await _daemon.ConnectAsAsync(Alice, pid: 41001, clientName: "alice-trainer");
        _bob = await _daemon.ConnectAsAsync(Bob, pid: 41002, clientName: "bob-notebook");
        _admin = await _daemon.ConnectAsAsync(Operator, pid: 41003, administrator: true, clientName: "operator");
        await _alice.RegisterModelAsync(SafetensorsFile.Write(_files.FullName, "alice", ("w", new float[1024])), "alice-model", cancellationToken: Cancellation);
        await _bob.RegisterModelAsync(SafetensorsFile.Write(_files.FullName, "bob", ("w", new float[4096])), "bob-secret-model", cancellationToken: Cancellation);
        await _bob.AllocateBufferAsync(1 << 20, Cancellation);
    }

    public async ValueTask DisposeAsync()
    {
        await _admin.DisposeAsync();
        await _bob.DisposeAsync();
        await _alice.DisposeAsync();
        await _daemon.DisposeAsync();
        _files.Delete(recursive: true);
    }

    [Fact]
    public async Task A_tenant_sees_its_own_sessions_in_full_and_the_other_tenants_sessions_only_summed_up()
    {
        var status = await _alice.GetStatusAsync(Cancellation);

        var own = Assert.Single(status.Sessions);
        Assert.Equal((Alice, 41001, "alice-trainer"), (own.Uid, own.Pid, own.ClientName));
        Assert.Equal(3u, status.SessionsTotal);
        var others = (await _admin.GetStatusAsync(Cancellation)).Sessions.Where(s => s.Uid != Alice).ToArray();
        Assert.Equal(
            new OtherSessions(
                Tenants: 2,
                Sessions: 2,
                BufferBytes: others.Aggregate(0UL, (sum, s) => sum + s.BufferBytes),
                StepsQueued: (uint)others.Sum(s => s.StepsQueued),
                StepsRunning: (uint)others.Sum(s => s.StepsRunning)),
            status.Others);
        Assert.True(status.Others!.Value.BufferBytes >= 1 << 20, "bob's buffer counts among the others' memory");
    }

    [Fact]
    public async Task A_tenant_sees_its_own_accounting_and_the_other_tenants_only_summed_up()
    {
        var report = await _bob.GetTenantsAsync(Cancellation);

        Assert.Equal([Bob], report.Tenants.Select(t => t.Uid));
        Assert.Equal(3u, report.TenantsTotal);
        var others = (await _admin.GetTenantsAsync(Cancellation)).Tenants.Where(t => t.Uid != Bob).ToArray();
        Assert.Equal(
            new OtherTenants(
                Tenants: 2,
                Sessions: 2,
                DeviceBytes: others.Aggregate(0UL, (sum, t) => sum + t.DeviceBytes),
                Leases: 0,
                GpuSecondsToday: others.Sum(t => t.GpuSecondsToday)),
            report.Others);
    }

    [Fact]
    public async Task A_tenant_sees_its_own_models_and_the_other_tenants_models_only_summed_up()
    {
        var list = await _alice.ListModelsAsync(Cancellation);

        Assert.Equal(["alice-model"], list.Models.Select(m => m.Name));
        Assert.Equal(2u, list.ModelsTotal);
        var bobs = Assert.Single((await _admin.ListModelsAsync(Cancellation)).Models, m => m.OwnerUid == Bob);
        Assert.Equal(new OtherModels(Models: 1, Bytes: bobs.Bytes, Resident: bobs.Resident ? 1u : 0u), list.Others);
    }

    [Fact]
    public async Task An_administrator_sees_every_tenant_s_sessions_and_models_in_full()
    {
        var status = await _admin.GetStatusAsync(Cancellation);
        var tenants = await _admin.GetTenantsAsync(Cancellation);
        var models = await _admin.ListModelsAsync(Cancellation);

        Assert.Contains(status.Sessions, s => (s.Uid, s.Pid, s.ClientName) == (Bob, 41002, "bob-notebook"));
        Assert.Equal(3, status.Sessions.Count);
        Assert.Equal(new OtherSessions(), status.Others);
        Assert.Equal([Alice, Bob, Operator], tenants.Tenants.Select(t => t.Uid).Order());
        Assert.Equal(new OtherTenants(), tenants.Others);
        Assert.Equal(["alice-model", "bob-secret-model"], models.Models.Select(m => m.Name).Order());
        Assert.Equal(new OtherModels(), models.Others);
    }

    [Fact]
    public async Task A_session_of_an_older_minor_gets_its_own_entries_alone_in_the_layout_it_knows()
    {
        _daemon.PresentNext(Bob, pid: 41004);
        await using var connection = await _daemon.ConnectRawAsync();
        Assert.Equal(3, await RawFrames.HelloAsync(connection, minor: 3));

        var status = await RawFrames.AskAsync<StatusReport>(connection, MessageType.GetStatus, 2);
        var tenants = await RawFrames.AskAsync<TenantReport>(connection, MessageType.GetTenants, 3);
        var models = await RawFrames.AskAsync<ModelList>(connection, MessageType.ListModels, 4);

        Assert.Equal([41002, 41004], status.Sessions.Select(s => s.Pid).Order());
        Assert.Equal(4u, status.SessionsTotal);
        Assert.Null(status.Others);
        Assert.Equal([Bob], tenants.Tenants.Select(t => t.Uid));
        Assert.Null(tenants.Others);
        Assert.Equal(["bob-secret-model"], models.Models.Select(m => m.Name));
        Assert.Null(models.Others);
    }
}
