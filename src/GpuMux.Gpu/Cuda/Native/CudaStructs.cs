using System.Runtime.InteropServices;

namespace GpuMux.Gpu.Cuda.Native;

// Layouts follow cuda.h on LP64. The C enum members (type, requestedHandleTypes, flags) are int;
// their values are in CudaConstants.

[StructLayout(LayoutKind.Sequential)]
internal struct CUmemLocation
{
    public int type;

    // For CU_MEM_LOCATION_TYPE_DEVICE cuda.h calls this a device ordinal, not a CUdevice.
    public int id;
}

[StructLayout(LayoutKind.Sequential)]
internal unsafe struct CUmemAllocationProp_allocFlags
{
    public byte compressionType;
    public byte gpuDirectRDMACapable;
    public ushort usage;
    public fixed byte reserved[4];
}

// 32 bytes: win32HandleMetaData is pointer-aligned and happens to land on offset 16, and the
// 8-byte allocFlags tail keeps the total a multiple of 8, so no hidden padding anywhere.
[StructLayout(LayoutKind.Sequential)]
internal struct CUmemAllocationProp
{
    public int type;
    public int requestedHandleTypes;
    public CUmemLocation location;
    public nint win32HandleMetaData;
    public CUmemAllocationProp_allocFlags allocFlags;
}

[StructLayout(LayoutKind.Sequential)]
internal struct CUmemAccessDesc
{
    public CUmemLocation location;
    public int flags;
}
