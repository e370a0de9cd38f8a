// Virtual memory management: the rules cuMemMap, cuMemUnmap and cuMemSetAccess apply to ranges,
// all asked inside one reservation of 8G, where G is the minimum granularity.
#include <stdio.h>
#include <string.h>

#include "probe.h"

typedef struct
{
    CUdeviceptr base;
    size_t size;
} range;

// Unmaps what a check that the driver unexpectedly accepted left mapped; failures are of no interest.
static void unmap_quietly(CUdeviceptr address, size_t size)
{
    (void)cuMemUnmap(address, size);
}

static void map_rules(const probe *p, range r, CUmemGenericAllocationHandle one_a,
                      CUmemGenericAllocationHandle one_b, CUmemGenericAllocationHandle two)
{
    const size_t g = p->granularity;
    CUresult result;

    // Header: "offset - Offset into the memory represented by handle ... Note: currently must be zero."
    result = cuMemMap(r.base, g, g, two, 0);
    report_result("map-nonzero-offset", CUDA_ERROR_INVALID_VALUE, result, false);
    if (result == CUDA_SUCCESS)
    {
        unmap_quietly(r.base, g);
    }

    // Header: "offset + size must be less than the size of the memory allocation."
    result = cuMemMap(r.base, g, 0, two, 0);
    report_result("map-prefix", CUDA_SUCCESS, result, false);
    if (result == CUDA_SUCCESS)
    {
        unmap_quietly(r.base, g);
    }

    result = cuMemMap(r.base + g / 2, g, 0, one_a, 0);
    report_result("map-unaligned-address", CUDA_ERROR_INVALID_VALUE, result, false);
    note("at reservation + G/2, %zu bytes past a multiple of G", g / 2);
    if (result == CUDA_SUCCESS)
    {
        unmap_quietly(r.base + g / 2, g);
    }

    // Starts in the reservation's last G and runs G past its end.
    result = cuMemMap(r.base + r.size - g, 2 * g, 0, two, 0);
    report_result("map-outside-reservation", CUDA_ERROR_INVALID_VALUE, result, false);
    if (result == CUDA_SUCCESS)
    {
        unmap_quietly(r.base + r.size - g, 2 * g);
    }

    // Header: "cuMemMap can only create mappings on VA range reservations that are not currently
    // mapped." Asked for exactly the mapped range, then for a 2G range whose second half it is.
    REQUIRE(cuMemMap(r.base + 2 * g, g, 0, one_a, 0));
    const CUresult same = cuMemMap(r.base + 2 * g, g, 0, one_b, 0);
    if (same == CUDA_SUCCESS)
    {
        unmap_quietly(r.base + 2 * g, g);
    }
    const CUresult overlapping = cuMemMap(r.base + g, 2 * g, 0, two, 0);
    if (overlapping == CUDA_SUCCESS)
    {
        unmap_quietly(r.base + g, 2 * g);
    }
    unmap_quietly(r.base + 2 * g, g);
    char got[160];
    snprintf(got, sizeof got, "%s for the same range", result_name(same));
    snprintf(got + strlen(got), sizeof got - strlen(got), ", %s for an overlapping one", result_name(overlapping));
    report("map-over-mapped", "CUDA_ERROR_INVALID_VALUE for both the same range and an overlapping one", got,
           worse(judge(CUDA_ERROR_INVALID_VALUE, same, false), judge(CUDA_ERROR_INVALID_VALUE, overlapping, false)));
done:;
}

static void size_rules(const probe *p)
{
    const size_t g = p->granularity;
    const size_t odd = g + p->page;
    CUmemAllocationProp prop = device_memory_prop(p);

    // Header: "The size of this allocation must be a multiple of the value given via
    // cuMemGetAllocationGranularity with the CU_MEM_ALLOC_GRANULARITY_MINIMUM flag."
    CUmemGenericAllocationHandle handle;
    CUresult result = cuMemCreate(&handle, odd, &prop, 0);
    report_result("create-unaligned-size", CUDA_ERROR_INVALID_VALUE, result, false);
    note("cuMemCreate of G + one host page = %zu bytes", odd);
    if (result == CUDA_SUCCESS)
    {
        cuMemRelease(handle);
    }

    // Header: "The size and address parameters must be a multiple of the host page size": G + a
    // page is one, so the driver may well accept it; the project refuses it above the backends.
    CUdeviceptr address = 0;
    result = cuMemAddressReserve(&address, odd, 0, 0, 0);
    report_result("reserve-unaligned-size", CUDA_ERROR_INVALID_VALUE, result, true);
    if (result == CUDA_SUCCESS)
    {
        note("cuMemAddressReserve of %zu bytes gave 0x%llx, %llu bytes past a multiple of G", odd,
             (unsigned long long)address, (unsigned long long)(address % g));
        cuMemAddressFree(address, odd);
    }
}

static void unmap_and_access_rules(const probe *p, range r, CUmemGenericAllocationHandle one_a,
                                   CUmemGenericAllocationHandle one_b, CUmemGenericAllocationHandle two)
{
    const size_t g = p->granularity;
    const CUmemAccessDesc access = device_access(p);
    CUresult result;

    // Two separate mappings side by side.
    REQUIRE(cuMemMap(r.base, g, 0, one_a, 0));
    REQUIRE(cuMemMap(r.base + g, g, 0, one_b, 0));
    // Header: "The range must be a fully mapped address range containing all allocations created
    // by cuMemMap / cuMemCreate."
    result = cuMemSetAccess(r.base, 2 * g, &access, 1);
    report_result("access-spanning-mappings", CUDA_SUCCESS, result, false);
    // Header: "The range must be the entire contiguous address range that was mapped to."
    result = cuMemUnmap(r.base, 2 * g);
    report_result("unmap-spanning-mappings", CUDA_ERROR_INVALID_VALUE, result, true);
    if (result != CUDA_SUCCESS)
    {
        REQUIRE(cuMemUnmap(r.base, g));
        REQUIRE(cuMemUnmap(r.base + g, g));
    }

    // One mapping of 2G.
    REQUIRE(cuMemMap(r.base, 2 * g, 0, two, 0));
    result = cuMemSetAccess(r.base, g, &access, 1);
    report_result("access-subrange", CUDA_ERROR_INVALID_VALUE, result, true);
    // Header: "cuMemUnmap cannot unmap a sub-range of an address range mapped by cuMemCreate / cuMemMap."
    result = cuMemUnmap(r.base, g);
    report_result("unmap-subrange", CUDA_ERROR_INVALID_VALUE, result, false);
    if (result == CUDA_SUCCESS)
    {
        unmap_quietly(r.base + g, g);
    }
    else
    {
        REQUIRE(cuMemUnmap(r.base, 2 * g));
    }

    // One mapping of G, access asked for 2G.
    REQUIRE(cuMemMap(r.base, g, 0, one_a, 0));
    result = cuMemSetAccess(r.base, 2 * g, &access, 1);
    report_result("access-partly-unmapped", CUDA_ERROR_INVALID_VALUE, result, false);
    REQUIRE(cuMemUnmap(r.base, g));
done:;
}

void memory_rules(probe *p)
{
    const size_t g = p->granularity;
    const CUmemAllocationProp prop = device_memory_prop(p);
    CUmemGenericAllocationHandle one_a = 0, one_b = 0, two = 0;
    bool have_a = false, have_b = false, have_two = false;
    range r = {0, 8 * g};

    REQUIRE(cuMemCreate(&one_a, g, &prop, 0));
    have_a = true;
    REQUIRE(cuMemCreate(&one_b, g, &prop, 0));
    have_b = true;
    REQUIRE(cuMemCreate(&two, 2 * g, &prop, 0));
    have_two = true;
    REQUIRE(cuMemAddressReserve(&r.base, r.size, g, 0, 0));

    map_rules(p, r, one_a, one_b, two);
    size_rules(p);
    unmap_and_access_rules(p, r, one_a, one_b, two);

done:
    if (r.base != 0)
    {
        cuMemAddressFree(r.base, r.size);
    }
    if (have_a)
    {
        cuMemRelease(one_a);
    }
    if (have_b)
    {
        cuMemRelease(one_b);
    }
    if (have_two)
    {
        cuMemRelease(two);
    }
}

// In a process of its own (main.c): an accepted copy to such memory could poison the context.
void memory_copy_unallocated(probe *p)
{
    const size_t g = p->granularity;
    CUdeviceptr base = 0;
    CUstream stream = NULL;
    void *host = NULL;

    REQUIRE(cuMemAddressReserve(&base, 2 * g, g, 0, 0));
    REQUIRE(cuStreamCreate(&stream, CU_STREAM_NON_BLOCKING));
    REQUIRE(cuMemAllocHost(&host, 4096));
    memset(host, 0x5a, 4096);

    const CUresult result = cuMemcpyHtoDAsync(base + g, host, 4096, stream);
    report_result("copy-unallocated", CUDA_ERROR_INVALID_VALUE, result, false);
    if (result == CUDA_SUCCESS)
    {
        note("cuMemcpyHtoDAsync was queued; cuStreamSynchronize then returned %s", result_name(cuStreamSynchronize(stream)));
    }
done:
    if (host != NULL)
    {
        cuMemFreeHost(host);
    }
    if (stream != NULL)
    {
        cuStreamDestroy(stream);
    }
    if (base != 0)
    {
        cuMemAddressFree(base, 2 * g);
    }
}

// In a process of its own (main.c). The Sim refuses a copy into memory that is mapped but has
// no access set, at the call, as it refuses one into unallocated memory.
void memory_copy_without_access(probe *p)
{
    const size_t g = p->granularity;
    const CUmemAllocationProp prop = device_memory_prop(p);
    CUdeviceptr base = 0;
    CUmemGenericAllocationHandle handle = 0;
    bool have_handle = false, mapped = false;
    void *host = NULL;

    REQUIRE(cuMemAddressReserve(&base, g, g, 0, 0));
    REQUIRE(cuMemCreate(&handle, g, &prop, 0));
    have_handle = true;
    REQUIRE(cuMemMap(base, g, 0, handle, 0));
    mapped = true;
    REQUIRE(cuMemAllocHost(&host, 4096));
    memset(host, 0x5a, 4096);

    const CUresult at_call = cuMemcpyHtoD(base, host, 4096);
    const CUresult at_sync = cuCtxSynchronize();
    char got[160];
    snprintf(got, sizeof got, "%s at the call", result_name(at_call));
    snprintf(got + strlen(got), sizeof got - strlen(got), ", %s from cuCtxSynchronize", result_name(at_sync));
    report("copy-without-access", "CUDA_ERROR_INVALID_VALUE at the call, CUDA_SUCCESS from cuCtxSynchronize", got,
           worse(judge(CUDA_ERROR_INVALID_VALUE, at_call, false), judge(CUDA_SUCCESS, at_sync, false)));
done:
    if (host != NULL)
    {
        cuMemFreeHost(host);
    }
    if (mapped)
    {
        cuMemUnmap(base, g);
    }
    if (have_handle)
    {
        cuMemRelease(handle);
    }
    if (base != 0)
    {
        cuMemAddressFree(base, g);
    }
}
