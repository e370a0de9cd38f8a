using GpuMux.Engine.Device;
using GpuMux.Engine.Models;
using GpuMux.Engine.Scheduling;
using GpuMux.Engine.Sessions;

namespace GpuMux.Engine.Execution;

/// <summary>
/// Decides when a submitted step starts. Most start at once. A step bound to a model that is
/// not resident starts once its model has been mapped and its swap-in queued; when the device
/// pool has no room for it until steps on the device are done, it waits, and so does everything
/// its session submits after it, steps and releases alike, so that a session's steps still run
/// in the order it submitted them. Waiting steps are tried again, oldest session first, whenever
/// steps complete, swap-ins land or memory is given back. While one step waits for room, later
/// steps that need room wait behind it, and steps bound to the models it waits to evict wait
/// too, so that it is not starved. A step issued in part (its model is being read from a file)
/// holds its session likewise until it is whole. A step that names spilled buffers has them
/// restored before its model is made resident, so their copies go ahead of its weights on the
/// copy stream; where they find no room it waits as for its model's. All on the engine thread.
/// </summary>
internal sealed class StepDispatcher(StepExecutor executor, ModelStore models, BufferSpills spills, int maxOps) : IStepIssuer
{
    private readonly List<SessionState> _waiting = [];
    private readonly List<Model> _advanced = [];
    private bool _memoryBlocked;
    private bool _currentQueued;
    private Step? _unstarted;

    /// <summary>The step being started or issued, for the fault handling when a device call throws.</summary>
    public Step? Current { get; private set; }

    public bool HasWaiting => _waiting.Count > 0;

    public void Submit(Step step, SessionState session, DeviceContext device)
    {
        if (session.Waiting.Count > 0 || session.Suspended is not null)
        {
            Enqueue(step, session);
        }
        else if (!TryStart(step, session, device, queued: false))
        {
            Enqueue(step, session);
        }
    }

    /// <summary>
    /// Runs <paramref name="release"/> now, or, when the session has steps waiting to start (or
    /// one issued in part), once they have started, since they may use what it releases; true
    /// when it was deferred.
    /// </summary>
    public bool ReleaseAfterWaitingSteps(SessionState session, Action release)
    {
        if (session.Waiting.Count == 0 && session.Suspended is null)
        {
            release();
            return false;
        }
        session.Waiting.Enqueue(new WaitingEntry(null, release));
        List(session);
        return true;
    }

    /// <summary>Tries the waiting steps again, oldest session first; call when memory may have come back or steps have finished issuing.</summary>
    public void Pump(DeviceContext device)
    {
        ResumeAdvanced(device);
        if (_waiting.Count == 0)
        {
            return;
        }
        models.ClearClaims();
        _memoryBlocked = false;
        for (var i = 0; i < _waiting.Count; i++)
        {
            var session = _waiting[i];
            while (session.Suspended is null && session.Waiting.TryPeek(out var entry))
            {
                if (entry.Step is { } step)
                {
                    if (!TryStart(step, session, device, queued: true))
                    {
                        break;
                    }
                }
                else
                {
                    session.Waiting.Dequeue();
                    entry.Release!();
                }
            }
            if (session.Waiting.Count == 0)
            {
                _waiting.RemoveAt(i--);
            }
        }
    }

    /// <summary>Fails every waiting step of <paramref name="session"/>, or of every session, and runs the releases among them.</summary>
    public void FailWaiting(SessionState? session, EngineError error, string message)
    {
        for (var i = _waiting.Count - 1; i >= 0; i--)
        {
            var waiting = _waiting[i];
            if (session is not null && waiting != session)
            {
                continue;
            }
            while (waiting.Waiting.TryDequeue(out var entry))
            {
                if (entry.Step is { } step)
                {
                    step.LeaveQueue();
                    executor.FailUnrun(step, waiting, error, message);
                }
                else
                {
                    entry.Release!();
                }
            }
            _waiting.RemoveAt(i);
        }
    }

    /// <summary>
    /// First thing after a fault: the step that was being started or issued when it surfaced, if
    /// it had reached the device (it is failed with the others, as a suspect if any of its ops
    /// were queued). One that had not is kept to wait for the new device, unless it is still in
    /// its session's queue anyway.
    /// </summary>
    public Step? TakeIssuing()
    {
        var step = Current;
        Current = null;
        if (step is null || step.Sequence > 0)
        {
            return step;
        }
        if (!_currentQueued)
        {
            _unstarted = step;
        }
        return null;
    }

    /// <summary>Once the steps on the device have been failed: claims and suspensions went with the old device.</summary>
    public void AfterFault()
    {
        if (_unstarted is { } step)
        {
            _unstarted = null;
            Enqueue(step, step.Owner!.State);
        }
        _memoryBlocked = false;
        _advanced.Clear();
    }

    /// <summary>Goes on issuing the steps suspended on models whose next groups have been queued.</summary>
    private void ResumeAdvanced(DeviceContext device)
    {
        if (!models.TakeAdvanced(_advanced))
        {
            return;
        }
        foreach (var model in _advanced)
        {
            for (var i = 0; i < model.Suspended.Count; i++)
            {
                var step = model.Suspended[i];
                Current = step;
                if (StepExecutor.Continue(step, step.Owner!.State, device))
                {
                    step.Owner.State.Suspended = null;
                    model.Suspended.RemoveAt(i--);
                }
            }
        }
        Current = null;
        _advanced.Clear();
    }

    /// <summary>
    /// Starts the step, or fails it; false when it must wait. A device call that throws leaves
    /// the step either not begun, and still waiting (or <see cref="Current"/>, to be queued by
    /// <see cref="AfterFault"/>), or on the device, to be failed with the others
    /// (<see cref="TakeIssuing"/>).
    /// </summary>
    private bool TryStart(Step step, SessionState session, DeviceContext device, bool queued)
    {
        // Its buffers are not spilled to make room for it, nor for its model.
        spills.Protected = step;
        try
        {
            return TryStartProtected(step, session, device, queued);
        }
        finally
        {
            spills.Protected = null;
        }
    }

    private bool TryStartProtected(Step step, SessionState session, DeviceContext device, bool queued)
    {
        Current = step;
        _currentQueued = queued;
        var error = StepValidator.Validate(step, session, maxOps, out var message, out var model);
        if (error == EngineError.None && queued && step.FailIfLate && step.IsLate(MonotonicClock.NowNanoseconds()))
        {
            // It waited here (for its model's room) past its deadline.
            error = EngineError.DeadlineMissed;
            message = "the step's deadline passed before it could start";
        }
        var stepsOnDevice = executor.InFlight > 0 || device.Releases.HasPending;
        if (error == EngineError.None)
        {
            switch (spills.Restore(step, session, device, _memoryBlocked ? null : models, model, stepsOnDevice, out var restoreMessage))
            {
                case ResidencyOutcome.Wait:
                    _memoryBlocked = true;
                    Current = null;
                    return false;
                case ResidencyOutcome.Impossible:
                    error = EngineError.OutOfMemory;
                    message = restoreMessage;
                    break;
            }
        }
        if (error == EngineError.None && model is not null && !IsReady(model))
        {
            if (model.Claimed || _memoryBlocked)
            {
                Current = null;
                return false;
            }
            switch (models.MakeResident(model, device, stepsOnDevice, out message))
            {
                case ResidencyOutcome.Wait:
                    _memoryBlocked = true;
                    Current = null;
                    return false;
                case ResidencyOutcome.Impossible:
                    error = EngineError.OutOfMemory;
                    break;
            }
        }
        else if (error == EngineError.None && model is { Claimed: true })
        {
            Current = null;
            return false;
        }
        step.LeaveQueue();
        if (error != EngineError.None)
        {
            Dequeue(session, queued);
            executor.FailUnrun(step, session, error, message);
        }
        else
        {
            var begun = executor.Begin(step, session, device, model);
            Dequeue(session, queued);
            if (begun && !StepExecutor.Continue(step, session, device))
            {
                session.Suspended = step;
                model!.Suspended.Add(step);
            }
        }
        Current = null;
        return true;
    }

    private static bool IsReady(Model model) => model.IsMapped && model.SwapFailure is null;

    private static void Dequeue(SessionState session, bool queued)
    {
        if (queued)
        {
            session.Waiting.Dequeue();
        }
    }

    private void Enqueue(Step step, SessionState session)
    {
        session.Waiting.Enqueue(new WaitingEntry(step, null));
        if (step.ModelHandle != 0 && session.Models.TryGet(step.ModelHandle, out var model))
        {
            step.JoinQueue(model);
        }
        List(session);
    }

    private void List(SessionState session)
    {
        if (!_waiting.Contains(session))
        {
            _waiting.Add(session);
        }
    }

}
