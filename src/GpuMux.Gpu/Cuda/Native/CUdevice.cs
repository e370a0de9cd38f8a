using System.Runtime.InteropServices;

namespace GpuMux.Gpu.Cuda.Native;

/// <summary>
/// cuda.h's <c>CUdevice</c> (an int): the driver's handle of a device, which <c>cuDeviceGet</c>
/// returns for an ordinal. A type of its own, so that an ordinal cannot be passed where the
/// driver asks for a handle; today's drivers happen to number both alike, which no header promises.
/// </summary>
[StructLayout(LayoutKind.Sequential)]
internal readonly struct CUdevice
{
    private readonly int _value;
}
