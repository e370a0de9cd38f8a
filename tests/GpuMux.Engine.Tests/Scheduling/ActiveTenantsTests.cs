using GpuMux.Engine.Scheduling;
using GpuMux.Engine.Sessions;
using GpuMux.Engine.Tenants;

namespace GpuMux.Engine.Tests.Scheduling;

/// <summary>A class keeps its tenants with held steps furthest behind first, as they are charged and as they come and go.</summary>
public sealed class ActiveTenantsTests
{
    private readonly EngineOptions _options = new();
    private readonly PriorityClass _class = new(0, new PriorityClassOptions("standard", 0), streamPriority: 0, TimeSpan.FromSeconds(1));

    [Fact]
    public void A_charge_moves_a_tenant_behind_those_it_overtook_and_a_refund_brings_it_back()
    {
        var (a, b, c) = (Join(1, weight: 1), Join(2, weight: 2), Join(3, weight: 1));

        _class.TenantFor(a.Tenant).Charge(3_000);
        _class.TenantFor(b.Tenant).Charge(4_000);
        _class.TenantFor(c.Tenant).Charge(1_000);
        Assert.Equal([3u, 2u, 1u], Order());

        // A step measured shorter than its estimate is refunded the difference.
        _class.TenantFor(a.Tenant).Charge(-2_500);
        Assert.Equal([1u, 3u, 2u], Order());
    }

    [Fact]
    public void A_tenant_that_leaves_is_passed_over_and_one_that_comes_back_starts_level_with_the_furthest_behind()
    {
        var (a, b, c) = (Join(1, weight: 1), Join(2, weight: 1), Join(3, weight: 1));
        _class.TenantFor(b.Tenant).Charge(5_000);
        _class.TenantFor(c.Tenant).Charge(7_000);

        _class.Leave(a);
        Assert.Equal([2u, 3u], Order());

        _class.Join(a);
        Assert.Equal(5_000, _class.TenantFor(a.Tenant).VirtualNs);
        // Level on virtual time, the tenant active longer goes first.
        Assert.Equal([2u, 1u, 3u], Order());
    }

    private SessionState Join(uint uid, double weight)
    {
        var session = new SessionState(null!, _options);
        session.Open(new Tenant(uid, new TenantLimits { Weight = weight }), 0, 0, device: null);
        _class.Join(session);
        return session;
    }

    private List<uint> Order()
    {
        var uids = new List<uint>();
        _class.Active.BeginWalk();
        while (_class.Active.NextInWalk() is { } tenant)
        {
            uids.Add(tenant.Tenant.Uid);
        }
        return uids;
    }
}
