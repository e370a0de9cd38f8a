// gpu-probe: asks the CUDA driver the questions the Sim backend answers on its behalf, and prints
// one finding per line, so that a GPU machine settles what a header's wording leaves open.
#ifndef GPUMUX_PROBE_H
#define GPUMUX_PROBE_H

#include <stdbool.h>
#include <stddef.h>

#include <cuda.h>

#define MIB ((size_t)1 << 20)
#define GIB ((size_t)1 << 30)

typedef enum
{
    VERDICT_OK,
    // The Sim refuses what the driver accepts, on purpose: informational.
    VERDICT_LENIENT,
    // The driver does something the Sim does not imitate: the probe fails.
    VERDICT_DIFFERS,
} verdict;

// What every section works with: device 0's primary context and the modules built beside the probe.
typedef struct
{
    CUdevice device;
    CUcontext context;
    int driver_version;
    // Minimum granularity of pinned device memory on this device, and the host's page size.
    size_t granularity;
    size_t page;
    const char *cubin_dir;
    // One module per source file in native/kernels, plus the probe's own.
    CUmodule fill, axpy, gemv, spin, checksum, probe_kernels;
} probe;

// Reporting (report.c).
const char *result_name(CUresult result);
verdict judge(CUresult expected, CUresult got, bool lenient_if_accepted);
verdict worse(verdict a, verdict b);
// Prints "RULE <rule>: expected <expected>, got <got> (<verdict>)" and counts a DIFFERS.
void report(const char *rule, const char *expected, const char *got, verdict v);
// The common case: one call, one expected status.
void report_result(const char *rule, CUresult expected, CUresult got, bool lenient_if_accepted);
// An indented line of detail under the finding before it.
void note(const char *format, ...) __attribute__((format(printf, 1, 2)));
void section(const char *title);
// A call the probe needed in order to ask its question failed: the question went unanswered.
void setup_failed(const char *call, CUresult result, const char *file, int line);
void count_differs(int n);
void count_setup_failures(int n);
// 0 when every finding matched or was lenient, 1 when one differed, 2 when a setup call failed.
int probe_exit_status(void);

double now_us(void);
double median(double *values, size_t count);

// Jumps to the function's `done:` label when a setup call fails.
#define REQUIRE(call)                                              \
    do                                                             \
    {                                                              \
        CUresult required_ = (call);                               \
        if (required_ != CUDA_SUCCESS)                             \
        {                                                          \
            setup_failed(#call, required_, __FILE__, __LINE__);    \
            goto done;                                             \
        }                                                          \
    } while (0)

// Context and modules (main.c).
bool probe_open(probe *p);
bool probe_load_modules(probe *p);
CUresult probe_load_module(const probe *p, const char *name, CUmodule *module);
CUmemAllocationProp device_memory_prop(const probe *p);
CUmemAccessDesc device_access(const probe *p);

// Sections.
void memory_rules(probe *p);
void memory_copy_without_access(probe *p);
void memory_copy_unallocated(probe *p);
void host_memory_rules(probe *p);
void launch_rules(probe *p);
void stream_rules(probe *p);
void vm_timing(probe *p);
void fault_and_reset(probe *p);

#endif
