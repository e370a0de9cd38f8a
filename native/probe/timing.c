// Timing of virtual memory management, to choose the unit a model's weights are mapped in: the
// project's goal is at most 1 ms of map + access beyond the copy for a 16 GiB model. A range is
// filled with units of one size side by side in one reservation, each mapped whole at offset 0,
// then made accessible with one cuMemSetAccess, then unmapped unit by unit.
#define _POSIX_C_SOURCE 200809L

#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#include "probe.h"

#define REPEATS 5
#define GOAL_US 1000.0

static const size_t unit_sizes_mib[] = {2, 8, 32, 64};

typedef struct
{
    double map_us, access_us, unmap_us;
} range_time;

// Maps the first `count` units into [base, base + count * unit), sets access over all of it, unmaps.
static bool time_range(const probe *p, CUdeviceptr base, size_t unit, const CUmemGenericAllocationHandle *units,
                       size_t count, range_time *time)
{
    const CUmemAccessDesc access = device_access(p);
    const double t0 = now_us();
    for (size_t i = 0; i < count; i++)
    {
        REQUIRE(cuMemMap(base + i * unit, unit, 0, units[i], 0));
    }
    const double t1 = now_us();
    REQUIRE(cuMemSetAccess(base, count * unit, &access, 1));
    const double t2 = now_us();
    for (size_t i = 0; i < count; i++)
    {
        REQUIRE(cuMemUnmap(base + i * unit, unit));
    }
    const double t3 = now_us();
    *time = (range_time){t1 - t0, t2 - t1, t3 - t2};
    return true;
done:
    return false;
}

static void time_unit(const probe *p, size_t unit, size_t largest)
{
    const CUmemAllocationProp prop = device_memory_prop(p);
    const size_t wanted = largest / unit;
    CUmemGenericAllocationHandle *units = calloc(wanted, sizeof *units);
    double *create_us = calloc(wanted, sizeof *create_us);
    double *release_us = calloc(wanted, sizeof *release_us);
    size_t created = 0;
    double create_median = 0.0, create_total = 0.0;
    CUdeviceptr base = 0;
    if (units == NULL || create_us == NULL || release_us == NULL)
    {
        count_setup_failures(1);
        goto done;
    }

    REQUIRE(cuMemAddressReserve(&base, largest, p->granularity, 0, 0));
    for (; created < wanted; created++)
    {
        const double t0 = now_us();
        const CUresult result = cuMemCreate(&units[created], unit, &prop, 0);
        create_us[created] = now_us() - t0;
        if (result != CUDA_SUCCESS)
        {
            printf("unit %zu MiB: cuMemCreate of unit %zu returned %s; ranges stop at %zu units\n", unit / MIB,
                   created, result_name(result), created);
            break;
        }
    }
    for (size_t i = 0; i < created; i++)
    {
        create_total += create_us[i];
    }
    create_median = median(create_us, created);

    const size_t ranges[] = {1 * GIB, 16 * GIB};
    for (size_t r = 0; r < sizeof ranges / sizeof ranges[0]; r++)
    {
        const size_t count = ranges[r] / unit;
        if (ranges[r] > largest || count > created)
        {
            continue;
        }
        double map[REPEATS], access[REPEATS], unmap[REPEATS], map_access[REPEATS];
        for (int i = 0; i < REPEATS; i++)
        {
            range_time t;
            if (!time_range(p, base, unit, units, count, &t))
            {
                goto done;
            }
            map[i] = t.map_us;
            access[i] = t.access_us;
            unmap[i] = t.unmap_us;
            map_access[i] = t.map_us + t.access_us;
        }
        const double map_median = median(map, REPEATS);
        const double unmap_median = median(unmap, REPEATS);
        const double total = median(map_access, REPEATS);
        printf("%8zu %9zu %6zu %10.1f %11.2f %10.1f %10.1f %13.2f %13.1f%s\n", unit / MIB, ranges[r] / GIB, count,
               map_median, map_median / (double)count, median(access, REPEATS), unmap_median,
               unmap_median / (double)count, total,
               ranges[r] == 16 * GIB ? (total <= GOAL_US ? "  meets 1 ms" : "  over 1 ms") : "");
        fflush(stdout);
    }

done:
    for (size_t i = 0; i < created; i++)
    {
        const double t0 = now_us();
        cuMemRelease(units[i]);
        release_us[i] = now_us() - t0;
    }
    if (created > 0)
    {
        printf("%8zu MiB units: cuMemCreate %.2f us, cuMemRelease %.2f us per call (medians of %zu; %.1f ms to create all)\n",
               unit / MIB, create_median, median(release_us, created), created, create_total / 1000.0);
    }
    if (base != 0)
    {
        cuMemAddressFree(base, largest);
    }
    free(units);
    free(create_us);
    free(release_us);
}

// Whether cuMemMap, cuMemSetAccess and cuMemUnmap wait for device work: each is timed idle and
// while a 200 ms kernel runs on another stream, and the stream is asked afterwards whether the
// kernel was still running (it was not, if the call waited for it).
static void time_while_busy(const probe *p)
{
    const size_t unit = 64 * MIB;
    const CUmemAllocationProp prop = device_memory_prop(p);
    const CUmemAccessDesc access = device_access(p);
    CUmemGenericAllocationHandle handle = 0;
    bool have_handle = false;
    CUdeviceptr base = 0;
    CUstream stream = NULL;
    CUfunction spin;
    double idle[3][REPEATS], busy[3];
    CUresult running[3];

    REQUIRE(cuModuleGetFunction(&spin, p->spin, "spin"));
    REQUIRE(cuStreamCreate(&stream, CU_STREAM_NON_BLOCKING));
    REQUIRE(cuMemAddressReserve(&base, unit, p->granularity, 0, 0));
    REQUIRE(cuMemCreate(&handle, unit, &prop, 0));
    have_handle = true;

    for (int i = 0; i < REPEATS; i++)
    {
        double t0 = now_us();
        REQUIRE(cuMemMap(base, unit, 0, handle, 0));
        double t1 = now_us();
        REQUIRE(cuMemSetAccess(base, unit, &access, 1));
        double t2 = now_us();
        REQUIRE(cuMemUnmap(base, unit));
        double t3 = now_us();
        idle[0][i] = t1 - t0;
        idle[1][i] = t2 - t1;
        idle[2][i] = t3 - t2;
    }

    unsigned long long microseconds = 200000;
    void *args[] = {&microseconds};
    REQUIRE(cuLaunchKernel(spin, 1, 1, 1, 32, 1, 1, 0, stream, args, NULL));
    // Give the kernel a moment to start.
    const struct timespec pause = {0, 2000000};
    nanosleep(&pause, NULL);
    const double t0 = now_us();
    REQUIRE(cuMemMap(base, unit, 0, handle, 0));
    const double t1 = now_us();
    running[0] = cuStreamQuery(stream);
    const double t2 = now_us();
    REQUIRE(cuMemSetAccess(base, unit, &access, 1));
    const double t3 = now_us();
    running[1] = cuStreamQuery(stream);
    const double t4 = now_us();
    REQUIRE(cuMemUnmap(base, unit));
    const double t5 = now_us();
    running[2] = cuStreamQuery(stream);
    busy[0] = t1 - t0;
    busy[1] = t3 - t2;
    busy[2] = t5 - t4;
    REQUIRE(cuStreamSynchronize(stream));

    static const char *const calls[] = {"cuMemMap", "cuMemSetAccess", "cuMemUnmap"};
    printf("\none 64 MiB unit, idle (median of %d) and while a 200 ms kernel runs on another stream:\n", REPEATS);
    printf("%-16s %10s %10s  %s\n", "call", "idle_us", "busy_us", "kernel still running after the call");
    for (int c = 0; c < 3; c++)
    {
        printf("%-16s %10.1f %10.1f  %s\n", calls[c], median(idle[c], REPEATS), busy[c],
               running[c] == CUDA_ERROR_NOT_READY ? "yes"
               : running[c] == CUDA_SUCCESS       ? "no: the call waited for it"
                                                  : result_name(running[c]));
    }
    fflush(stdout);

done:
    if (stream != NULL)
    {
        cuStreamSynchronize(stream);
        cuStreamDestroy(stream);
    }
    if (have_handle)
    {
        cuMemRelease(handle);
    }
    if (base != 0)
    {
        cuMemAddressFree(base, unit);
    }
}

void vm_timing(probe *p)
{
    size_t free_bytes = 0, total_bytes = 0;
    REQUIRE(cuMemGetInfo(&free_bytes, &total_bytes));
    // 16 GiB of units, with room to spare for the context's own allocations.
    const size_t largest = free_bytes >= 18 * GIB ? 16 * GIB : 1 * GIB;
    if (largest < 16 * GIB)
    {
        printf("only %.1f GiB free: 1 GiB ranges only\n", (double)free_bytes / GIB);
    }
    printf("medians of %d runs; map and unmap are one call per unit, access one call over the range\n", REPEATS);
    printf("%8s %9s %6s %10s %11s %10s %10s %13s %13s\n", "unit_MiB", "range_GiB", "units", "map_us", "map_us/call",
           "access_us", "unmap_us", "unmap_us/call", "map+access_us");
    for (size_t i = 0; i < sizeof unit_sizes_mib / sizeof unit_sizes_mib[0]; i++)
    {
        const size_t unit = unit_sizes_mib[i] * MIB;
        if (unit % p->granularity != 0)
        {
            printf("%8zu  skipped: not a multiple of G\n", unit_sizes_mib[i]);
            continue;
        }
        time_unit(p, unit, largest);
    }
    time_while_busy(p);
done:;
}
