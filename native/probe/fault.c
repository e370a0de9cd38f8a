// Fault and reset: an illegal address poisons the context for good, dropping one of two retains
// does not clear it, and release + reset + retain gives a context that works again. This runs
// last: it leaves every earlier module, stream and allocation of the process invalid.
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "probe.h"

#define FILL_COUNT (1u << 20)

// Loads fill_f32 into the current context, fills 1M floats with it and reads them back.
static bool fill_works(const probe *p, char *outcome, size_t capacity, double *load_us)
{
    CUmodule module = NULL;
    CUdeviceptr buffer = 0;
    float *host = malloc(FILL_COUNT * sizeof *host);
    bool correct = false;
    CUresult result;
    const char *failed = NULL;

    const double t0 = now_us();
    if ((result = probe_load_module(p, "fill", &module)) != CUDA_SUCCESS)
    {
        failed = "cuModuleLoad";
        goto done;
    }
    *load_us = now_us() - t0;
    CUfunction fill;
    if ((result = cuModuleGetFunction(&fill, module, "fill_f32")) != CUDA_SUCCESS)
    {
        failed = "cuModuleGetFunction";
        goto done;
    }
    if ((result = cuMemAlloc(&buffer, FILL_COUNT * sizeof(float))) != CUDA_SUCCESS)
    {
        failed = "cuMemAlloc";
        goto done;
    }
    float value = 2.5f;
    unsigned long long count = FILL_COUNT;
    void *args[] = {&buffer, &value, &count};
    if ((result = cuLaunchKernel(fill, 1024, 1, 1, 256, 1, 1, 0, NULL, args, NULL)) != CUDA_SUCCESS)
    {
        failed = "cuLaunchKernel";
        goto done;
    }
    if ((result = cuMemcpyDtoH(host, buffer, FILL_COUNT * sizeof(float))) != CUDA_SUCCESS)
    {
        failed = "cuMemcpyDtoH";
        goto done;
    }
    size_t wrong = 0;
    for (size_t i = 0; i < FILL_COUNT; i++)
    {
        wrong += host[i] != value;
    }
    correct = wrong == 0;
    snprintf(outcome, capacity, "%zu of %u floats read back correct", FILL_COUNT - wrong, FILL_COUNT);

done:
    if (failed != NULL)
    {
        snprintf(outcome, capacity, "%s returned %s", failed, result_name(result));
    }
    if (buffer != 0)
    {
        cuMemFree(buffer);
    }
    if (module != NULL)
    {
        cuModuleUnload(module);
    }
    free(host);
    return correct;
}

void fault_and_reset(probe *p)
{
    const size_t g = p->granularity;
    CUcontext second = NULL;
    CUdeviceptr hole = 0, scratch = 0;
    CUfunction store;
    char expected[256], got[256];

    // A second retain, so that one release leaves the context alive.
    REQUIRE(cuDevicePrimaryCtxRetain(&second, p->device));
    REQUIRE(cuModuleGetFunction(&store, p->probe_kernels, "probe_store"));
    // A reserved address with nothing mapped: where a kernel that strays in the daemon's pool lands.
    REQUIRE(cuMemAddressReserve(&hole, g, g, 0, 0));

    unsigned long long address = hole;
    unsigned int value = 1;
    void *args[] = {&address, &value};
    REQUIRE(cuLaunchKernel(store, 1, 1, 1, 1, 1, 1, 0, NULL, args, NULL));
    const CUresult synchronized = cuCtxSynchronize();
    const CUresult allocated = cuMemAlloc(&scratch, 4096);
    if (allocated == CUDA_SUCCESS)
    {
        cuMemFree(scratch);
    }
    snprintf(got, sizeof got, "%s from cuCtxSynchronize", result_name(synchronized));
    snprintf(got + strlen(got), sizeof got - strlen(got), ", then %s from cuMemAlloc", result_name(allocated));
    report("fault-sticky",
           "CUDA_ERROR_ILLEGAL_ADDRESS from cuCtxSynchronize, then CUDA_ERROR_ILLEGAL_ADDRESS from cuMemAlloc", got,
           worse(judge(CUDA_ERROR_ILLEGAL_ADDRESS, synchronized, false),
                 judge(CUDA_ERROR_ILLEGAL_ADDRESS, allocated, false)));

    // Retained twice: release once, retain again, and ask for memory.
    const CUresult released = cuDevicePrimaryCtxRelease(p->device);
    CUcontext again = NULL;
    const CUresult retained = cuDevicePrimaryCtxRetain(&again, p->device);
    const CUresult current = retained == CUDA_SUCCESS ? cuCtxSetCurrent(again) : retained;
    scratch = 0;
    const CUresult still = cuMemAlloc(&scratch, 4096);
    if (still == CUDA_SUCCESS)
    {
        cuMemFree(scratch);
    }
    snprintf(got, sizeof got, "release %s", result_name(released));
    snprintf(got + strlen(got), sizeof got - strlen(got), ", retain %s", result_name(retained));
    snprintf(got + strlen(got), sizeof got - strlen(got), ", set current %s", result_name(current));
    snprintf(got + strlen(got), sizeof got - strlen(got), ", then %s from cuMemAlloc", result_name(still));
    report("release-does-not-reset",
           "release CUDA_SUCCESS, retain CUDA_SUCCESS, set current CUDA_SUCCESS, then CUDA_ERROR_ILLEGAL_ADDRESS from "
           "cuMemAlloc: still poisoned",
           got,
           worse(worse(judge(CUDA_SUCCESS, released, false), judge(CUDA_SUCCESS, retained, false)),
                 worse(judge(CUDA_SUCCESS, current, false), judge(CUDA_ERROR_ILLEGAL_ADDRESS, still, false))));
    if (retained == CUDA_SUCCESS)
    {
        note("the context retained again is %s one", again == p->context ? "the same" : "a different");
    }

    // Back to one retain, as the daemon holds, then the daemon's recovery, timed.
    REQUIRE(cuDevicePrimaryCtxRelease(p->device));
    p->fill = p->axpy = p->gemv = p->spin = p->checksum = p->probe_kernels = NULL;
    CUresult steps[4];
    const double t0 = now_us();
    steps[0] = cuDevicePrimaryCtxRelease(p->device);
    steps[1] = cuDevicePrimaryCtxReset(p->device);
    steps[2] = cuDevicePrimaryCtxRetain(&p->context, p->device);
    steps[3] = cuCtxSetCurrent(p->context);
    const double reset_us = now_us() - t0;
    snprintf(got, sizeof got, "release %s", result_name(steps[0]));
    snprintf(got + strlen(got), sizeof got - strlen(got), ", reset %s", result_name(steps[1]));
    snprintf(got + strlen(got), sizeof got - strlen(got), ", retain %s", result_name(steps[2]));
    snprintf(got + strlen(got), sizeof got - strlen(got), ", set current %s", result_name(steps[3]));
    verdict v = VERDICT_OK;
    for (int i = 0; i < 4; i++)
    {
        v = worse(v, judge(CUDA_SUCCESS, steps[i], false));
    }
    char outcome[128] = "not tried";
    double load_us = 0.0;
    if (v == VERDICT_OK && !fill_works(p, outcome, sizeof outcome, &load_us))
    {
        v = VERDICT_DIFFERS;
    }
    snprintf(got + strlen(got), sizeof got - strlen(got), ", then %s", outcome);
    snprintf(expected, sizeof expected,
             "release, reset, retain and set current CUDA_SUCCESS, then %u of %u floats read back correct", FILL_COUNT,
             FILL_COUNT);
    report("reset-rebuilds", expected, got, v);
    note("release + reset + retain + set current took %.1f ms; loading the fill module after it %.1f ms",
         reset_us / 1000.0, load_us / 1000.0);
done:;
}
