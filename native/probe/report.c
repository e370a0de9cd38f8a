#define _POSIX_C_SOURCE 200809L

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#include "probe.h"

static int differs_count;
static int setup_failure_count;

const char *result_name(CUresult result)
{
    // cuGetErrorName needs no context, so it works in a poisoned one too. An unknown value is
    // written into one static buffer, which the next unknown value overwrites.
    static char unknown[32];
    const char *name = NULL;
    if (cuGetErrorName(result, &name) == CUDA_SUCCESS && name != NULL)
    {
        return name;
    }
    snprintf(unknown, sizeof unknown, "CUresult %d", (int)result);
    return unknown;
}

verdict judge(CUresult expected, CUresult got, bool lenient_if_accepted)
{
    if (got == expected)
    {
        return VERDICT_OK;
    }
    if (lenient_if_accepted && got == CUDA_SUCCESS)
    {
        return VERDICT_LENIENT;
    }
    return VERDICT_DIFFERS;
}

verdict worse(verdict a, verdict b)
{
    return a > b ? a : b;
}

void report(const char *rule, const char *expected, const char *got, verdict v)
{
    static const char *const names[] = {"ok", "lenient", "DIFFERS"};
    printf("RULE %s: expected %s, got %s (%s)\n", rule, expected, got, names[v]);
    fflush(stdout);
    if (v == VERDICT_DIFFERS)
    {
        differs_count++;
    }
}

void report_result(const char *rule, CUresult expected, CUresult got, bool lenient_if_accepted)
{
    // result_name may hand back its one buffer for an unknown value: copy before the second call.
    char expected_name[64];
    snprintf(expected_name, sizeof expected_name, "%s", result_name(expected));
    report(rule, expected_name, result_name(got), judge(expected, got, lenient_if_accepted));
}

void note(const char *format, ...)
{
    va_list args;
    va_start(args, format);
    fputs("    ", stdout);
    vprintf(format, args);
    fputc('\n', stdout);
    va_end(args);
    fflush(stdout);
}

void section(const char *title)
{
    printf("\n== %s\n", title);
    fflush(stdout);
}

void setup_failed(const char *call, CUresult result, const char *file, int line)
{
    printf("SETUP FAILED at %s:%d: %s returned %s\n", file, line, call, result_name(result));
    fflush(stdout);
    setup_failure_count++;
}

void count_differs(int n)
{
    differs_count += n;
}

void count_setup_failures(int n)
{
    setup_failure_count += n;
}

int probe_exit_status(void)
{
    if (setup_failure_count > 0)
    {
        return 2;
    }
    return differs_count > 0 ? 1 : 0;
}

double now_us(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec * 1e6 + (double)t.tv_nsec / 1e3;
}

static int compare_doubles(const void *a, const void *b)
{
    const double x = *(const double *)a;
    const double y = *(const double *)b;
    return (x > y) - (x < y);
}

double median(double *values, size_t count)
{
    if (count == 0)
    {
        return 0.0;
    }
    qsort(values, count, sizeof *values, compare_doubles);
    return count % 2 == 1 ? values[count / 2] : (values[count / 2 - 1] + values[count / 2]) / 2.0;
}
