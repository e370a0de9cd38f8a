// Streams and events: priorities outside the range, and what cuEventElapsedTime refuses.
#include <stdio.h>
#include <string.h>

#include "probe.h"

// Header: "If the specified priority is outside the numerical range returned by
// cuCtxGetStreamPriorityRange, it will automatically be clamped"; the project refuses it above the
// backends, so the driver accepting it is lenient.
static void priority_rules(void)
{
    int least = 0, greatest = 0;
    REQUIRE(cuCtxGetStreamPriorityRange(&least, &greatest));
    note("stream priorities run from %d (least) to %d (greatest); lower numbers are higher priorities", least, greatest);

    // One past the greatest priority, then one past the least.
    const int outside[2] = {greatest - 1, least + 1};
    char expected[128], got[256];
    snprintf(expected, sizeof expected, "CUDA_ERROR_INVALID_VALUE at %d and at %d", outside[0], outside[1]);
    got[0] = '\0';
    verdict v = VERDICT_OK;
    for (int i = 0; i < 2; i++)
    {
        CUstream stream = NULL;
        const CUresult result = cuStreamCreateWithPriority(&stream, CU_STREAM_NON_BLOCKING, outside[i]);
        const size_t used = strlen(got);
        snprintf(got + used, sizeof got - used, "%s%s at %d", i == 0 ? "" : ", ", result_name(result), outside[i]);
        v = worse(v, judge(CUDA_ERROR_INVALID_VALUE, result, true));
        if (result == CUDA_SUCCESS)
        {
            int priority = 0;
            const CUresult read = cuStreamGetPriority(stream, &priority);
            const size_t now = strlen(got);
            if (read == CUDA_SUCCESS)
            {
                snprintf(got + now, sizeof got - now, " reading back %d", priority);
            }
            else
            {
                snprintf(got + now, sizeof got - now, " with cuStreamGetPriority failing %s", result_name(read));
            }
            cuStreamDestroy(stream);
        }
    }
    report("stream-priority-outside-range", expected, got, v);
done:;
}

static void elapsed_rules(const probe *p)
{
    CUstream stream = NULL;
    CUevent timed = NULL, untimed = NULL, never_a = NULL, never_b = NULL, start = NULL, end = NULL;
    float ms = 0.0f;
    CUfunction spin;
    REQUIRE(cuModuleGetFunction(&spin, p->spin, "spin"));
    REQUIRE(cuStreamCreate(&stream, CU_STREAM_NON_BLOCKING));
    REQUIRE(cuEventCreate(&timed, CU_EVENT_DEFAULT));
    REQUIRE(cuEventCreate(&untimed, CU_EVENT_DISABLE_TIMING));
    REQUIRE(cuEventCreate(&never_a, CU_EVENT_DEFAULT));
    REQUIRE(cuEventCreate(&never_b, CU_EVENT_DEFAULT));
    REQUIRE(cuEventCreate(&start, CU_EVENT_DEFAULT));
    REQUIRE(cuEventCreate(&end, CU_EVENT_DEFAULT));

    // Header: "If either event was created with the CU_EVENT_DISABLE_TIMING flag, then this
    // function will return CUDA_ERROR_INVALID_HANDLE."
    REQUIRE(cuEventRecord(timed, stream));
    REQUIRE(cuEventRecord(untimed, stream));
    REQUIRE(cuStreamSynchronize(stream));
    report_result("elapsed-without-timing", CUDA_ERROR_INVALID_HANDLE, cuEventElapsedTime(&ms, timed, untimed), false);

    // Header: "If cuEventRecord() has not been called on either event then
    // CUDA_ERROR_INVALID_HANDLE is returned." Asked with the end never recorded, then neither.
    const CUresult end_never = cuEventElapsedTime(&ms, timed, never_a);
    const CUresult both_never = cuEventElapsedTime(&ms, never_a, never_b);
    char got[160];
    snprintf(got, sizeof got, "%s with the end never recorded", result_name(end_never));
    snprintf(got + strlen(got), sizeof got - strlen(got), ", %s with neither", result_name(both_never));
    report("elapsed-never-recorded", "CUDA_ERROR_INVALID_HANDLE with the end never recorded and with neither", got,
           worse(judge(CUDA_ERROR_INVALID_HANDLE, end_never, false), judge(CUDA_ERROR_INVALID_HANDLE, both_never, false)));

    // The end event queued behind a 100 ms kernel.
    unsigned long long microseconds = 100000;
    void *args[] = {&microseconds};
    REQUIRE(cuEventRecord(start, stream));
    REQUIRE(cuLaunchKernel(spin, 1, 1, 1, 32, 1, 1, 0, stream, args, NULL));
    REQUIRE(cuEventRecord(end, stream));
    report_result("elapsed-not-complete", CUDA_ERROR_NOT_READY, cuEventElapsedTime(&ms, start, end), false);
    REQUIRE(cuStreamSynchronize(stream));
    const CUresult after = cuEventElapsedTime(&ms, start, end);
    note("once the stream is done: %s, %.1f ms for a 100 ms spin", result_name(after), (double)ms);

done:
    if (stream != NULL)
    {
        cuStreamSynchronize(stream);
    }
    CUevent events[] = {timed, untimed, never_a, never_b, start, end};
    for (size_t i = 0; i < sizeof events / sizeof events[0]; i++)
    {
        if (events[i] != NULL)
        {
            cuEventDestroy(events[i]);
        }
    }
    if (stream != NULL)
    {
        cuStreamDestroy(stream);
    }
}

void stream_rules(probe *p)
{
    priority_rules();
    elapsed_rules(p);
}
