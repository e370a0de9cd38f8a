using GpuMux.Engine.Sessions;
using GpuMux.Engine.Tenants;

namespace GpuMux.Engine.Scheduling;

/// <summary>
/// One tenant within one priority class: its sessions with steps held back, and its virtual
/// time, the device time its steps in this class have taken divided by its weight. The tenant
/// furthest behind goes next. A step is charged an estimate when it is issued and corrected to
/// its measured time when it completes, so a tenant cannot take the device twice over before
/// its first step is counted. While it has held steps it is in its class's heap of active
/// tenants, which every change to its virtual time keeps in order.
/// </summary>
internal sealed class ClassTenant(Tenant tenant, IndexedMinHeap<ClassTenant> active) : IHeapItem<ClassTenant>
{
    // A first guess at a step's device time, until the tenant's own steps have been measured.
    private const double InitialEstimateNs = 1e6;
    private const double EstimateWeight = 0.2;

    public Tenant Tenant { get; } = tenant;

    public double VirtualNs { get; private set; }

    /// <summary>When it last became active in its class: among equal virtual times, the one active longest goes first.</summary>
    public long ActivatedAt { get; set; }

    public int HeapSlot { get; set; } = -1;

    /// <summary>A moving average of the device time of its recent steps in the class.</summary>
    public double EstimateNs { get; private set; } = InitialEstimateNs;

    /// <summary>Sessions of the tenant in this class with held steps, in the order they got them.</summary>
    public List<SessionState> Sessions { get; } = [];

    public void Charge(double gpuNs) => SetVirtualNs(VirtualNs + (gpuNs / Tenant.Limits.Weight));

    /// <summary>Brings its virtual time up to <paramref name="floor"/> if it is behind it.</summary>
    public void CatchUp(double floor) => SetVirtualNs(Math.Max(VirtualNs, floor));

    public static bool Precedes(ClassTenant a, ClassTenant b) =>
        a.VirtualNs != b.VirtualNs ? a.VirtualNs < b.VirtualNs : a.ActivatedAt < b.ActivatedAt;

    public void Measured(long gpuNs) => EstimateNs += EstimateWeight * (gpuNs - EstimateNs);

    /// <summary>Whether <paramref name="a"/> goes before <paramref name="b"/>: the earlier effective deadline, steps without one last; among equals, the first submitted.</summary>
    public static bool GoesBefore(Step a, Step b)
    {
        var aDeadline = a.EffectiveDeadlineNs == 0 ? long.MaxValue : a.EffectiveDeadlineNs;
        var bDeadline = b.EffectiveDeadlineNs == 0 ? long.MaxValue : b.EffectiveDeadlineNs;
        return aDeadline != bDeadline ? aDeadline < bDeadline : a.QueuedAtNs < b.QueuedAtNs;
    }

    private void SetVirtualNs(double virtualNs)
    {
        VirtualNs = virtualNs;
        if (active.Contains(this))
        {
            active.Update(this);
        }
    }
}
