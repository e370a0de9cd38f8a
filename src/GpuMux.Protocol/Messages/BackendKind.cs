namespace GpuMux.Protocol.Messages;

public enum BackendKind : byte
{
    Cuda = 1,
    Sim = 2,
}
