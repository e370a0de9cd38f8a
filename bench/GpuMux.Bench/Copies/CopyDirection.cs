namespace GpuMux.Bench.Copies;

internal enum CopyDirection
{
    HostToDevice,
    DeviceToHost,
}
