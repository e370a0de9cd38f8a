namespace GpuMux.Protocol.Messages;

public enum StepOpKind : byte
{
    CopyIn = 1,
    Launch = 2,
    CopyOut = 3,
}
