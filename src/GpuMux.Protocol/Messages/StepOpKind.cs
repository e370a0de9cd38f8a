namespace GpuMux.Protocol.Messages;

public enum StepOpKind : byte
{
    CopyIn = 1,
    Launch = 2,
    CopyOut = 3,

    /// <summary>Binds the step to a model; once, before any copy or launch.</summary>
    UseModel = 4,

    /// <summary>Gives the step a deadline and scheduling flags; once, before any copy or launch.</summary>
    Schedule = 5,
}
