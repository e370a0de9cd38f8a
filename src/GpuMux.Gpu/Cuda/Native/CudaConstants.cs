namespace GpuMux.Gpu.Cuda.Native;

// Flag parameters that are `unsigned int` in C are uint here; values of C enums (stored in the
// VMM structs or passed by value as an enum) are int.
internal static class CudaConstants
{
    // CUctx_flags: the scheduling modes are the values under CU_CTX_SCHED_MASK
    internal const uint CU_CTX_SCHED_BLOCKING_SYNC = 0x04;
    internal const uint CU_CTX_SCHED_MASK = 0x07;

    // CUstream_flags
    internal const uint CU_STREAM_DEFAULT = 0x0;
    internal const uint CU_STREAM_NON_BLOCKING = 0x1;

    // CUevent_flags
    internal const uint CU_EVENT_DEFAULT = 0x0;
    internal const uint CU_EVENT_BLOCKING_SYNC = 0x1;
    internal const uint CU_EVENT_DISABLE_TIMING = 0x2;

    // cuMemHostAlloc / cuMemHostRegister flags (#defines)
    internal const uint CU_MEMHOSTALLOC_PORTABLE = 0x01;
    internal const uint CU_MEMHOSTALLOC_DEVICEMAP = 0x02;
    internal const uint CU_MEMHOSTALLOC_WRITECOMBINED = 0x04;
    internal const uint CU_MEMHOSTREGISTER_PORTABLE = 0x01;
    internal const uint CU_MEMHOSTREGISTER_DEVICEMAP = 0x02;
    internal const uint CU_MEMHOSTREGISTER_READ_ONLY = 0x08;

    // CUmemAllocationType
    internal const int CU_MEM_ALLOCATION_TYPE_INVALID = 0x0;
    internal const int CU_MEM_ALLOCATION_TYPE_PINNED = 0x1;

    // CUmemLocationType
    internal const int CU_MEM_LOCATION_TYPE_INVALID = 0x0;
    internal const int CU_MEM_LOCATION_TYPE_DEVICE = 0x1;

    // CUmemAccess_flags
    internal const int CU_MEM_ACCESS_FLAGS_PROT_NONE = 0x0;
    internal const int CU_MEM_ACCESS_FLAGS_PROT_READ = 0x1;
    internal const int CU_MEM_ACCESS_FLAGS_PROT_READWRITE = 0x3;

    // CUmemAllocationHandleType
    internal const int CU_MEM_HANDLE_TYPE_NONE = 0x0;
    internal const int CU_MEM_HANDLE_TYPE_POSIX_FILE_DESCRIPTOR = 0x1;

    // CUmemAllocationGranularity_flags
    internal const int CU_MEM_ALLOC_GRANULARITY_MINIMUM = 0x0;
    internal const int CU_MEM_ALLOC_GRANULARITY_RECOMMENDED = 0x1;

    // CUjit_option
    internal const int CU_JIT_INFO_LOG_BUFFER = 3;
    internal const int CU_JIT_INFO_LOG_BUFFER_SIZE_BYTES = 4;
    internal const int CU_JIT_ERROR_LOG_BUFFER = 5;
    internal const int CU_JIT_ERROR_LOG_BUFFER_SIZE_BYTES = 6;
    internal const int CU_JIT_LOG_VERBOSE = 12;
}
