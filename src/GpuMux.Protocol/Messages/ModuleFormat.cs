namespace GpuMux.Protocol.Messages;

public enum ModuleFormat : byte
{
    CudaC = 1,
    Ptx = 2,
    Cubin = 3,
}
