using GpuMux.Engine.Sessions;
using GpuMux.Engine.Tenants;

namespace GpuMux.Engine.Scheduling;

/// <summary>One priority class as the scheduler runs it: its stream priority, its tenants with held steps, and its steps on the device.</summary>
internal sealed class PriorityClass(int index, PriorityClassOptions options, int streamPriority, TimeSpan shareWindow)
{
    private readonly Dictionary<uint, ClassTenant> _tenants = [];

    // Steps issued while their model had not landed, until it has or they have completed.
    private readonly List<Step> _awaitingModel = [];

    private long _activations;

    public int Index { get; } = index;

    public string Name => options.Name;

    public double MinimumShare => options.MinimumShare;

    public int StreamPriority { get; } = streamPriority;

    /// <summary>The longest a step of the class may be on the device, in nanoseconds.</summary>
    public long MaxStepNs { get; } = options.MaxStepTime.Ticks * 100;

    /// <summary>Tenants with held steps in this class, the furthest behind first.</summary>
    public IndexedMinHeap<ClassTenant> Active { get; } = new();

    public int Held { get; set; }

    /// <summary>Steps issued from this class and not yet completed (some may wait for device memory in the dispatcher).</summary>
    public int OnDevice { get; private set; }

    /// <summary>
    /// Steps on the device, less those waiting for their model's swap-in to land: those wait on
    /// the copy stream, and leave the device's compute to the class's other steps. A step whose
    /// model waits for room in the pool counts, so the class cannot pile steps up there.
    /// </summary>
    public int Computing
    {
        get
        {
            _awaitingModel.RemoveAll(static step => step.UsedModel!.Landed);
            var copying = 0;
            foreach (var step in _awaitingModel)
            {
                copying += step.UsedModel!.IsMapped ? 1 : 0;
            }
            return OnDevice - copying;
        }
    }

    /// <summary>Counts a step about to be handed to the dispatcher, which may complete it at once.</summary>
    public void Issuing(Step step)
    {
        OnDevice++;
        if (step.UsedModel is { Landed: false })
        {
            _awaitingModel.Add(step);
        }
    }

    public void Completed(Step step)
    {
        OnDevice--;
        _awaitingModel.Remove(step);
    }

    public ShareMeter Share { get; } = new(shareWindow);

    public ClassTenant TenantFor(Tenant tenant)
    {
        if (!_tenants.TryGetValue(tenant.Uid, out var entry))
        {
            entry = new ClassTenant(tenant, Active);
            _tenants.Add(tenant.Uid, entry);
        }
        return entry;
    }

    /// <summary>
    /// Lists a session that now has held steps in this class. A tenant that had none becomes
    /// active level with the furthest-behind tenant still active, so that time it spent idle is
    /// not credit to take the device with.
    /// </summary>
    public void Join(SessionState session)
    {
        var tenant = TenantFor(session.Tenant);
        if (tenant.Sessions.Count == 0)
        {
            Activate(tenant);
        }
        tenant.Sessions.Add(session);
    }

    /// <summary>Unlists a session that has no held steps in this class any more.</summary>
    public void Leave(SessionState session)
    {
        var tenant = TenantFor(session.Tenant);
        tenant.Sessions.Remove(session);
        if (tenant.Sessions.Count == 0)
        {
            Active.Remove(tenant);
        }
    }

    private void Activate(ClassTenant tenant)
    {
        if (Active.First is { } furthestBehind)
        {
            tenant.CatchUp(furthestBehind.VirtualNs);
        }
        tenant.ActivatedAt = ++_activations;
        Active.Add(tenant);
    }

    public ClassStatus Snapshot(double share) => new(Name, StreamPriority, Held, OnDevice, share, MinimumShare);
}
