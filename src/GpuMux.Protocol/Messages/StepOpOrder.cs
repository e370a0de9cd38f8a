namespace GpuMux.Protocol.Messages;

/// <summary>
/// The order rule that <see cref="StepEncoder"/> and <see cref="StepDecoder"/> share: UseModel and
/// Schedule describe the step as a whole, so each comes at most once, in either order, before the
/// step's first copy or launch.
/// </summary>
internal struct StepOpOrder
{
    private bool _bodyStarted;
    private bool _hasModel;
    private bool _hasSchedule;

    /// <summary>Takes the next op's kind; returns null when it may come here, else why not.</summary>
    public string? Admit(StepOpKind kind)
    {
        if (kind is not (StepOpKind.UseModel or StepOpKind.Schedule))
        {
            _bodyStarted = true;
            return null;
        }

        if (_bodyStarted)
        {
            return $"{kind} must come before the step's first copy or launch";
        }

        ref var seen = ref kind == StepOpKind.UseModel ? ref _hasModel : ref _hasSchedule;
        if (seen)
        {
            return $"a step has at most one {kind} op";
        }

        seen = true;
        return null;
    }
}
