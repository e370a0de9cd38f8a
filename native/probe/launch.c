// Launches: the built-in kernels' parameter layouts as the driver reports them, and the launch
// configurations and memsets it refuses before queuing anything.
#include <stdio.h>
#include <string.h>

#include "probe.h"

#define MAX_PARAMS 8

typedef struct
{
    const char *kernel;
    CUmodule module;
    size_t count;
    size_t offsets[MAX_PARAMS];
    size_t sizes[MAX_PARAMS];
} layout;

static void describe_layout(char *text, size_t capacity, const layout *l, CUresult past_last)
{
    size_t used = (size_t)snprintf(text, capacity, "%s %zu params", l->kernel, l->count);
    for (size_t i = 0; i < l->count && used < capacity; i++)
    {
        used += (size_t)snprintf(text + used, capacity - used, " [%zu,%zu]", l->offsets[i], l->sizes[i]);
    }
    if (used < capacity)
    {
        snprintf(text + used, capacity - used, " then %s", result_name(past_last));
    }
}

static void param_info(const probe *p)
{
#if CUDA_VERSION >= 12040
    // The layouts the Sim reports, from the signatures in native/kernels/*.cu.
    const layout expected[] = {
        {"fill_f32", p->fill, 3, {0, 8, 16}, {8, 4, 8}},
        {"axpy_f32", p->axpy, 4, {0, 8, 16, 24}, {8, 8, 4, 8}},
        {"gemv_f32", p->gemv, 5, {0, 8, 16, 24, 28}, {8, 8, 8, 4, 4}},
        {"gemv_f16", p->gemv, 5, {0, 8, 16, 24, 28}, {8, 8, 8, 4, 4}},
        {"gemv_bf16", p->gemv, 5, {0, 8, 16, 24, 28}, {8, 8, 8, 4, 4}},
        {"spin", p->spin, 1, {0}, {8}},
        {"checksum", p->checksum, 3, {0, 8, 16}, {8, 8, 8}},
    };
    if (p->driver_version < 12040)
    {
        printf("SKIPPED param-info: the driver (API %d) predates cuFuncGetParamInfo (12.4)\n", p->driver_version);
        return;
    }
    for (size_t k = 0; k < sizeof expected / sizeof expected[0]; k++)
    {
        const layout *want = &expected[k];
        layout got = {want->kernel, want->module, 0, {0}, {0}};
        CUfunction function;
        REQUIRE(cuModuleGetFunction(&function, want->module, want->kernel));
        CUresult past_last = CUDA_SUCCESS;
        for (size_t i = 0; i <= MAX_PARAMS; i++)
        {
            size_t offset = 0, size = 0;
            past_last = cuFuncGetParamInfo(function, i, &offset, &size);
            if (past_last != CUDA_SUCCESS || i == MAX_PARAMS)
            {
                break;
            }
            got.offsets[i] = offset;
            got.sizes[i] = size;
            got.count++;
        }
        bool same = got.count == want->count && past_last == CUDA_ERROR_INVALID_VALUE;
        for (size_t i = 0; same && i < got.count; i++)
        {
            same = got.offsets[i] == want->offsets[i] && got.sizes[i] == want->sizes[i];
        }
        char want_text[256], got_text[256];
        describe_layout(want_text, sizeof want_text, want, CUDA_ERROR_INVALID_VALUE);
        describe_layout(got_text, sizeof got_text, &got, past_last);
        report("param-info", want_text, got_text, same ? VERDICT_OK : VERDICT_DIFFERS);
    }
done:;
#else
    (void)p;
    printf("SKIPPED param-info: built against cuda.h %d, which predates cuFuncGetParamInfo (12.4)\n", CUDA_VERSION);
#endif
}

typedef struct
{
    const char *rule;
    unsigned int grid[3];
    unsigned int block[3];
} bad_launch;

static void launch_limits(const probe *p, CUstream stream)
{
    static const bad_launch launches[] = {
        {"launch-too-many-threads", {1, 1, 1}, {2048, 1, 1}},
        {"launch-zero-grid", {0, 1, 1}, {32, 1, 1}},
        {"launch-block-dim-too-large", {1, 1, 1}, {1, 1, 65}},
    };
    CUfunction spin, dynamic_shared;
    REQUIRE(cuModuleGetFunction(&spin, p->spin, "spin"));
    REQUIRE(cuModuleGetFunction(&dynamic_shared, p->probe_kernels, "probe_dynamic_shared"));

    unsigned long long microseconds = 0;
    void *spin_args[] = {&microseconds};
    for (size_t i = 0; i < sizeof launches / sizeof launches[0]; i++)
    {
        const bad_launch *l = &launches[i];
        const CUresult result = cuLaunchKernel(spin, l->grid[0], l->grid[1], l->grid[2], l->block[0], l->block[1],
                                               l->block[2], 0, stream, spin_args, NULL);
        report_result(l->rule, CUDA_ERROR_INVALID_VALUE, result, false);
        note("grid (%u,%u,%u), block (%u,%u,%u)", l->grid[0], l->grid[1], l->grid[2], l->block[0], l->block[1], l->block[2]);
    }

    // Past 48 KiB a kernel must opt in (CU_FUNC_ATTRIBUTE_MAX_DYNAMIC_SHARED_SIZE_BYTES); this one has not.
    int max_shared = 0;
    REQUIRE(cuDeviceGetAttribute(&max_shared, CU_DEVICE_ATTRIBUTE_MAX_SHARED_MEMORY_PER_BLOCK, p->device));
    CUdeviceptr no_output = 0;
    void *shared_args[] = {&no_output};
    const unsigned int shared_bytes = (unsigned int)max_shared + 1;
    const CUresult result = cuLaunchKernel(dynamic_shared, 1, 1, 1, 32, 1, 1, shared_bytes, stream, shared_args, NULL);
    report_result("launch-dynamic-shared-over-default", CUDA_ERROR_INVALID_VALUE, result, false);
    note("%u bytes of dynamic shared memory, the device's default limit + 1", shared_bytes);

    REQUIRE(cuStreamSynchronize(stream));
done:;
}

static void memset_rules(CUstream stream)
{
    CUdeviceptr buffer = 0;
    REQUIRE(cuMemAlloc(&buffer, 4096));
    // Header: "The dstDevice pointer must be four byte aligned."
    const CUresult result = cuMemsetD32Async(buffer + 2, 0, 4, stream);
    report_result("memset32-unaligned", CUDA_ERROR_INVALID_VALUE, result, false);
    REQUIRE(cuStreamSynchronize(stream));
done:
    if (buffer != 0)
    {
        cuMemFree(buffer);
    }
}

void launch_rules(probe *p)
{
    CUstream stream = NULL;
    param_info(p);
    REQUIRE(cuStreamCreate(&stream, CU_STREAM_NON_BLOCKING));
    launch_limits(p, stream);
    memset_rules(stream);
done:
    if (stream != NULL)
    {
        cuStreamDestroy(stream);
    }
}
