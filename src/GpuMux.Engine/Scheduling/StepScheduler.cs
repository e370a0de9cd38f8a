using GpuMux.Engine.Device;
using GpuMux.Engine.Execution;
using GpuMux.Engine.Models;
using GpuMux.Engine.Sessions;

namespace GpuMux.Engine.Scheduling;

/// <summary>
/// Decides which submitted step goes to the device next. Steps are held here, by class, tenant
/// and session, and issued to the dispatcher while their class has fewer than
/// <see cref="SchedulingOptions.StepsOnDevicePerClass"/> on the device, not counting those that
/// wait for their model's swap-in to land.
/// <list type="bullet">
/// <item>Between classes, strict priority: a class issues only while no class above it holds
/// steps it could issue, unless its share of recent device time is below its minimum share
/// (the starvation bound): then it issues alone until it has had its share. On the device,
/// each class's streams run at its own priority.</item>
/// <item>Within a class, the tenant whose virtual time (device time over weight) is least goes
/// next; within a tenant, among its sessions' next steps that can start now, the earliest
/// deadline, then the first submitted, each session's steps in order. A step still held when its
/// deadline passes fails if it asked to.</item>
/// <item>Models switch between steps. A step whose model is cold costs a swap-in (its bytes over
/// the measured swap bandwidth): a warm model's step of another tenant goes first if that
/// tenant is behind by less than the swap would take, unless the cold step has a deadline. A
/// model swapped in keeps its place while steps want it for its turn, until its steps have had
/// <see cref="SchedulingOptions.SwapAmortization"/> times its swap's time on the device; a cold
/// step whose model could be mapped only by evicting a model within its turn waits for the turn
/// to end while warm models' steps go, so that models do not evict each other step by step. A
/// cold step with a deadline waits, too, rather than evict a model that steps want, until its
/// deadline is within its swap's horizon, and then until the copy stream is free of other swaps.
/// Likewise a step of the model issued last goes ahead of a fairer one that is less than one
/// step's time ahead, so steps of one model run together. While models compute, the next cold
/// model the queues will want is swapped in on the copy stream, if that evicts nothing wanted.
/// The tenant whose step needs a swap-in is charged its time, as device time spent for it.</item>
/// </list>
/// Engine thread only.
/// </summary>
internal sealed class StepScheduler(
    SchedulingOptions options,
    // An array, not a list interface: the loops over it on every decision would box an enumerator each.
    PriorityClass[] classes,
    IStepIssuer dispatcher,
    StepExecutor executor,
    ModelStore models)
{
    private readonly bool[] _stuck = new bool[classes.Length];

    // Sessions emptied by late heads failing during a walk of their class's tenants, which may not change the heap under it.
    private readonly List<SessionState> _emptied = [];
    private readonly List<ClassTenant> _failing = [];
    private Model? _lastModel;

    public int Held { get; private set; }

    /// <summary>
    /// When time passing alone may let a class that could issue nothing at the last
    /// <see cref="Pump"/> issue, or fail, a held step: a cold step's deadline coming within its
    /// swap's horizon, or the deadline of a step that asked to fail when late. long.MaxValue when
    /// only a completion, an arrival or a model's turn ending can.
    /// </summary>
    public long StuckUntilNs { get; private set; } = long.MaxValue;

    /// <summary>Holds a step that passed its session's and tenant's gates, and issues what can go.</summary>
    public void Enqueue(Step step, SessionState session, DeviceContext device)
    {
        var now = MonotonicClock.NowNanoseconds();
        if (Refusal(step, session, now) is { } refusal)
        {
            executor.FailUnrun(step, session, refusal.Error, refusal.Message);
            return;
        }
        if (step.ModelHandle != 0 && session.Models.TryGet(step.ModelHandle, out var model))
        {
            step.JoinQueue(model);
            model.LastDeadlineNs = step.DeadlineNs;
        }
        var priorityClass = classes[session.ClassIndex];
        InheritDeadline(session, step);
        session.Held.Enqueue(step);
        session.HeldCount++;
        priorityClass.Held++;
        Held++;
        if (session.Held.Count == 1)
        {
            priorityClass.Join(session);
        }
        Pump(device);
    }

    /// <summary>Issues steps while some class may; then prefetches the next cold model if the copy stream is free.</summary>
    public void Pump(DeviceContext device)
    {
        Array.Clear(_stuck);
        StuckUntilNs = long.MaxValue;
        while (NextClass() is { } priorityClass)
        {
            if (Pick(priorityClass) is { } session)
            {
                Issue(session, priorityClass, device);
            }
            else
            {
                _stuck[priorityClass.Index] = true;
                StuckUntilNs = Math.Min(StuckUntilNs, WhenTimeMayUnstick(priorityClass));
            }
        }
        Prefetch(device);
    }

    /// <summary>Defers <paramref name="release"/> behind the session's held steps, which may use what it releases; false when it holds none.</summary>
    public bool DeferRelease(SessionState session, Action release)
    {
        if (session.Held.Count == 0)
        {
            return false;
        }
        session.ReleasesAfterHeld.Enqueue((session.HeldCount, release));
        return true;
    }

    /// <summary>Fails the held steps of <paramref name="session"/>, or of every session.</summary>
    public void FailHeld(SessionState? session, EngineError error, string message)
    {
        foreach (var priorityClass in classes)
        {
            _failing.Clear();
            for (var t = 0; t < priorityClass.Active.Count; t++)
            {
                _failing.Add(priorityClass.Active[t]);
            }
            foreach (var tenant in _failing)
            {
                for (var s = tenant.Sessions.Count - 1; s >= 0; s--)
                {
                    var held = tenant.Sessions[s];
                    if (session is not null && held != session)
                    {
                        continue;
                    }
                    tenant.Sessions.RemoveAt(s);
                    while (held.Held.TryDequeue(out var step))
                    {
                        priorityClass.Held--;
                        Held--;
                        held.HeldTaken++;
                        step.LeaveQueue();
                        executor.FailUnrun(step, held, error, message);
                    }
                    RunDueReleases(held);
                }
                if (tenant.Sessions.Count == 0)
                {
                    priorityClass.Active.Remove(tenant);
                }
            }
        }
    }

    /// <summary>Moves a session's held steps to the class it now runs in.</summary>
    public void ChangeClass(SessionState session, int classIndex)
    {
        var from = classes[session.ClassIndex];
        session.ClassIndex = classIndex;
        session.StreamPriority = classes[classIndex].StreamPriority;
        if (session.Held.Count == 0 || from.Index == classIndex)
        {
            return;
        }
        from.Leave(session);
        from.Held -= session.Held.Count;
        var to = classes[classIndex];
        to.Join(session);
        to.Held += session.Held.Count;
    }

    /// <summary>
    /// Gives <paramref name="step"/> its own deadline as its effective one, and the steps held
    /// ahead of it in its session its deadline where it is earlier than theirs: a step waiting
    /// behind one due later would otherwise wait as long as that one can.
    /// </summary>
    private static void InheritDeadline(SessionState session, Step step)
    {
        step.EffectiveDeadlineNs = step.DeadlineNs;
        if (step.DeadlineNs == 0)
        {
            return;
        }
        foreach (var ahead in session.Held)
        {
            if (ahead.EffectiveDeadlineNs == 0 || ahead.EffectiveDeadlineNs > step.DeadlineNs)
            {
                ahead.EffectiveDeadlineNs = step.DeadlineNs;
            }
        }
    }

    private static (EngineError Error, string Message)? Refusal(Step step, SessionState session, long now)
    {
        if (session.Lease is { Expired: true } lease)
        {
            return (EngineError.LeaseExpired, lease.ExpiredMessage);
        }
        if (session.Tenant.OverDailyTime(now) is { } over)
        {
            return (EngineError.QuotaExceeded, over);
        }
        if (step.IsLate(now))
        {
            return (EngineError.DeadlineMissed, $"the step's deadline had passed {(now - step.DeadlineNs) / 1e6:F3} ms before it was submitted");
        }
        return null;
    }

    private static bool IsWarm(Model? model) => model is null || (model.IsMapped && model.SwapFailure is null);

    private static Model? ModelOf(Step step, SessionState session) =>
        step.ModelHandle != 0 && session.Models.TryGet(step.ModelHandle, out var model) ? model : null;

    /// <summary>The class to issue from next, or null when none may.</summary>
    private PriorityClass? NextClass()
    {
        if (OwedClass() is { } owed)
        {
            return CanIssue(owed) ? owed : null;
        }
        foreach (var priorityClass in classes)
        {
            if (priorityClass.Held == 0 || _stuck[priorityClass.Index])
            {
                continue;
            }
            return CanIssue(priorityClass) ? priorityClass : null;
        }
        return null;
    }

    private bool CanIssue(PriorityClass priorityClass) =>
        priorityClass.Held > 0 && !_stuck[priorityClass.Index] && priorityClass.Computing < options.StepsOnDevicePerClass;

    /// <summary>
    /// A class below one with work that is owed its minimum share, if any: it issues alone until
    /// it has had it. Kernels are not preempted, so while a class above it kept issuing, its
    /// steps would be passed over at every kernel boundary on the device.
    /// </summary>
    private PriorityClass? OwedClass()
    {
        var now = MonotonicClock.NowNanoseconds();
        var higherBusy = false;
        foreach (var priorityClass in classes)
        {
            var hasWork = (priorityClass.Held > 0 && !_stuck[priorityClass.Index]) || priorityClass.OnDevice > 0;
            if (higherBusy && hasWork && IsOwedShare(priorityClass, now))
            {
                return priorityClass;
            }
            higherBusy |= hasWork;
        }
        return null;
    }

    private bool IsOwedShare(PriorityClass priorityClass, long now)
    {
        if (priorityClass.MinimumShare == 0)
        {
            return false;
        }
        double total = 0;
        foreach (var each in classes)
        {
            total += each.Share.ValueAt(now);
        }
        return total > 0 && priorityClass.Share.ValueAt(now) / total < priorityClass.MinimumShare;
    }

    /// <summary>The session whose head step goes next in <paramref name="priorityClass"/>; null when none can go now.</summary>
    private SessionState? Pick(PriorityClass priorityClass)
    {
        var picked = PickInOrder(priorityClass);
        foreach (var session in _emptied)
        {
            priorityClass.Leave(session);
        }
        _emptied.Clear();
        return picked;
    }

    /// <summary>
    /// Walks the class's tenants in the order of their virtual times, as far as a choice other
    /// than the fairest could go: usually only the first.
    /// </summary>
    private SessionState? PickInOrder(PriorityClass priorityClass)
    {
        priorityClass.Active.BeginWalk();
        SessionState? fair = null;
        ClassTenant? fairTenant = null;
        Model? fairModel = null;
        SessionState? warm = null;
        SessionState? grouped = null;
        var swapCostNs = 0.0;
        while (priorityClass.Active.NextInWalk() is { } tenant)
        {
            if (NextStartable(priorityClass, tenant) is not { } session)
            {
                continue;
            }
            var step = session.Held.Peek();
            var model = ModelOf(step, session);
            if (fair is null)
            {
                (fair, fairTenant, fairModel) = (session, tenant, model);
                if (options.Policy == SchedulingPolicy.Dedicated || (IsWarm(model) && (model is null || _lastModel is null || model == _lastModel)))
                {
                    return fair;
                }
                swapCostNs = IsWarm(model) || step.EffectiveDeadlineNs != 0 ? 0 : models.SwapTimeNs(model!);
                continue;
            }
            var lead = tenant.VirtualNs - fairTenant!.VirtualNs;
            if (grouped is null && model is not null && model == _lastModel && lead <= fairTenant.EstimateNs)
            {
                grouped = session;
            }
            if (warm is null && IsWarm(model) && lead <= swapCostNs)
            {
                warm = session;
            }
            if (lead > Math.Max(swapCostNs, fairTenant.EstimateNs))
            {
                break;
            }
        }
        return IsWarm(fairModel) ? grouped ?? fair : warm ?? fair;
    }

    /// <summary>
    /// The tenant's session whose head step goes next among those that can start now: the
    /// earliest deadline, then the first submitted. A head whose model is kept out waits without
    /// holding up the tenant's other sessions. Held steps whose deadlines have passed, and that
    /// asked to fail, fail first.
    /// </summary>
    private SessionState? NextStartable(PriorityClass priorityClass, ClassTenant tenant)
    {
        FailLateHeads(priorityClass, tenant);
        var now = MonotonicClock.NowNanoseconds();
        SessionState? next = null;
        foreach (var session in tenant.Sessions)
        {
            if (!session.Held.TryPeek(out var step))
            {
                continue;
            }
            if ((next is null || ClassTenant.GoesBefore(step, next.Held.Peek())) && !WaitsForItsSession(step, session) && CanStartNow(step, ModelOf(step, session), now))
            {
                next = session;
            }
        }
        return next;
    }

    private void FailLateHeads(PriorityClass priorityClass, ClassTenant tenant)
    {
        var now = MonotonicClock.NowNanoseconds();
        for (var s = tenant.Sessions.Count - 1; s >= 0; s--)
        {
            var session = tenant.Sessions[s];
            while (session.Held.TryPeek(out var step) && step.IsLate(now))
            {
                TakeHeld(session, priorityClass);
                if (session.Held.Count == 0)
                {
                    _emptied.Add(session);
                }
                step.LeaveQueue();
                executor.FailUnrun(step, session, EngineError.DeadlineMissed, $"the step's deadline passed {(now - step.DeadlineNs) / 1e6:F3} ms before it could start");
                RunDueReleases(session);
            }
        }
    }

    /// <summary>
    /// A step that fails rather than start late is issued only once its session's earlier steps
    /// are off the device (and none waits to start): issued behind them, it would start when they
    /// end, after its deadline was last checked, and nothing takes a step off a stream.
    /// </summary>
    private static bool WaitsForItsSession(Step step, SessionState session) =>
        step.FailIfLate && step.DeadlineNs != 0 && (session.InFlight.Count > 0 || session.Waiting.Count > 0 || session.Suspended is not null);

    /// <summary>
    /// A cold model's step waits while its model could be mapped only by evicting models held
    /// resident (mid-request under the Request policy, within their turn under the Step policy),
    /// and, when it has a deadline, while mapping it would evict a model that steps want and its
    /// deadline is further off than its swap's horizon: a model evicted now is one swapped in
    /// again later, so a swap that evicts is spent on a step that cannot wait. Such a step also
    /// waits while a swap-in lands or an issued step waits for room: one at a time, the most
    /// urgent when the copy stream frees, while warm models' steps go meanwhile. Issued together,
    /// cold steps would each claim a model to evict, and the device would idle while those
    /// drained for swaps queued behind each other.
    /// </summary>
    private bool CanStartNow(Step step, Model? model, long now)
    {
        if (IsWarm(model))
        {
            return true;
        }
        if (models.IsKeptOut(model!))
        {
            return false;
        }
        if (step.EffectiveDeadlineNs == 0)
        {
            return true;
        }
        var noOtherSwapPending = !models.IsSwapping && !dispatcher.HasWaiting;
        return noOtherSwapPending && (step.EffectiveDeadlineNs - now <= SwapHorizonNs(model!) || models.HasRoomSparingWanted(model!));
    }

    /// <summary>How long before its deadline a cold step may evict a wanted model: its swap, and twice that to spare for a swap ahead of it on the copy stream and for its own compute.</summary>
    private double SwapHorizonNs(Model model) => models.SwapTimeNs(model) * 3;

    private Step Take(SessionState session, PriorityClass priorityClass)
    {
        var step = TakeHeld(session, priorityClass);
        if (session.Held.Count == 0)
        {
            priorityClass.Leave(session);
        }
        return step;
    }

    /// <summary>Takes the session's head step, leaving the session listed in its class.</summary>
    private Step TakeHeld(SessionState session, PriorityClass priorityClass)
    {
        var step = session.Held.Dequeue();
        priorityClass.Held--;
        Held--;
        session.HeldTaken++;
        return step;
    }

    /// <summary>
    /// When a class whose held steps cannot start now may have one that can, or one to fail,
    /// with no other change than time: the earliest of its head steps' moments of
    /// <see cref="CanStartNow"/> turning on a deadline, and of their deadlines passing where they
    /// asked to fail when late. A step kept out by a model's turn waits for the turn's end, which
    /// the model store knows.
    /// </summary>
    private long WhenTimeMayUnstick(PriorityClass priorityClass)
    {
        var now = MonotonicClock.NowNanoseconds();
        var at = long.MaxValue;
        for (var t = 0; t < priorityClass.Active.Count; t++)
        {
            foreach (var session in priorityClass.Active[t].Sessions)
            {
                var step = session.Held.Peek();
                if (step.FailIfLate && step.DeadlineNs != 0)
                {
                    at = Math.Min(at, step.DeadlineNs + 1);
                }
                if (step.EffectiveDeadlineNs != 0 && ModelOf(step, session) is { } model && !IsWarm(model))
                {
                    var withinHorizon = step.EffectiveDeadlineNs - (long)SwapHorizonNs(model);
                    if (withinHorizon > now)
                    {
                        at = Math.Min(at, withinHorizon);
                    }
                }
            }
        }
        return at;
    }

    private void Issue(SessionState session, PriorityClass priorityClass, DeviceContext device)
    {
        var tenant = priorityClass.TenantFor(session.Tenant);
        var step = Take(session, priorityClass);
        var model = ModelOf(step, session);
        step.ClassIndex = priorityClass.Index;
        step.EstimatedNs = tenant.EstimateNs;
        step.UsedModel = model;
        tenant.Charge(tenant.EstimateNs);
        if (!IsWarm(model))
        {
            // The swap-in is device time spent for this tenant: paying for it in its virtual time
            // keeps a tenant whose model keeps getting evicted from evicting others in turn.
            tenant.Charge(models.SwapTimeNs(model!));
        }
        if (model is not null)
        {
            _lastModel = model;
            model.InRequest = !step.EndsRequest || model.InRequest;
            model.LastActiveNs = MonotonicClock.NowNanoseconds();
        }
        priorityClass.Issuing(step);
        dispatcher.Submit(step, session, device);
        RunDueReleases(session);
    }

    /// <summary>Hands on the releases whose earlier steps have all left the scheduler, to go behind them in the dispatcher.</summary>
    private void RunDueReleases(SessionState session)
    {
        while (session.ReleasesAfterHeld.TryPeek(out var due) && due.AfterHeld <= session.HeldTaken)
        {
            session.ReleasesAfterHeld.Dequeue();
            dispatcher.ReleaseAfterWaitingSteps(session, due.Release);
        }
    }

    /// <summary>The model of the tenant's first head step, in the order they go, whose model is cold; null when every head's model is warm.</summary>
    private static Model? EarliestCold(ClassTenant tenant)
    {
        Step? first = null;
        Model? cold = null;
        foreach (var session in tenant.Sessions)
        {
            var step = session.Held.Peek();
            if ((first is null || ClassTenant.GoesBefore(step, first)) && ModelOf(step, session) is { } model && !IsWarm(model))
            {
                (first, cold) = (step, model);
            }
        }
        return cold;
    }

    /// <summary>Swaps in the model of the step most likely to go next among those whose models are cold, if the copy stream is idle and room needs no wanted model evicted.</summary>
    private void Prefetch(DeviceContext device)
    {
        if (options.Policy == SchedulingPolicy.Dedicated || models.IsSwapping)
        {
            return;
        }
        foreach (var priorityClass in classes)
        {
            if (priorityClass.Active.First is not { } next)
            {
                continue;
            }
            if (EarliestCold(next) is { } model && models.HasRoomSparingWanted(model))
            {
                models.Prefetch(model, device);
            }
            return;
        }
    }
}
