namespace GpuMux.Protocol.Messages;

public enum StepOpKind : byte
{
    CopyIn = 1,
    Launch = 2,
    CopyOut = 3,

    /// <summary>Binds the step to a model; only as a step's first op.</summary>
    UseModel = 4,
}
