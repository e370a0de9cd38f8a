// gpu-probe <cubin-dir>: runs every check against device 0 and exits 0 when the driver behaves as
// the Sim does (or more leniently, where the Sim is stricter on purpose), 1 when a finding
// differs, 2 when the probe could not ask a question. The cubin directory holds one cubin per
// source file of native/kernels and the probe's own kernels (build.sh makes them).
#define _POSIX_C_SOURCE 200809L

#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "probe.h"

bool probe_open(probe *p)
{
    REQUIRE(cuInit(0));
    REQUIRE(cuDriverGetVersion(&p->driver_version));
    REQUIRE(cuDeviceGet(&p->device, 0));
    REQUIRE(cuDevicePrimaryCtxRetain(&p->context, p->device));
    REQUIRE(cuCtxSetCurrent(p->context));
    CUmemAllocationProp prop = device_memory_prop(p);
    REQUIRE(cuMemGetAllocationGranularity(&p->granularity, &prop, CU_MEM_ALLOC_GRANULARITY_MINIMUM));
    p->page = (size_t)sysconf(_SC_PAGESIZE);
    return true;
done:
    return false;
}

CUresult probe_load_module(const probe *p, const char *name, CUmodule *module)
{
    char path[4096];
    snprintf(path, sizeof path, "%s/%s.cubin", p->cubin_dir, name);
    return cuModuleLoad(module, path);
}

bool probe_load_modules(probe *p)
{
    REQUIRE(probe_load_module(p, "fill", &p->fill));
    REQUIRE(probe_load_module(p, "axpy", &p->axpy));
    REQUIRE(probe_load_module(p, "gemv", &p->gemv));
    REQUIRE(probe_load_module(p, "spin", &p->spin));
    REQUIRE(probe_load_module(p, "checksum", &p->checksum));
    REQUIRE(probe_load_module(p, "probe_kernels", &p->probe_kernels));
    return true;
done:
    return false;
}

CUmemAllocationProp device_memory_prop(const probe *p)
{
    CUmemAllocationProp prop;
    memset(&prop, 0, sizeof prop);
    prop.type = CU_MEM_ALLOCATION_TYPE_PINNED;
    prop.location.type = CU_MEM_LOCATION_TYPE_DEVICE;
    prop.location.id = p->device;
    return prop;
}

CUmemAccessDesc device_access(const probe *p)
{
    CUmemAccessDesc access;
    memset(&access, 0, sizeof access);
    access.location.type = CU_MEM_LOCATION_TYPE_DEVICE;
    access.location.id = p->device;
    access.flags = CU_MEM_ACCESS_FLAGS_PROT_READWRITE;
    return access;
}

static void describe(const probe *p)
{
    char name[256] = "?";
    int major = 0, minor = 0, max_threads = 0, max_block_z = 0, shared = 0, shared_optin = 0;
    size_t free_bytes = 0, total_bytes = 0;
    cuDeviceGetName(name, (int)sizeof name, p->device);
    cuDeviceGetAttribute(&major, CU_DEVICE_ATTRIBUTE_COMPUTE_CAPABILITY_MAJOR, p->device);
    cuDeviceGetAttribute(&minor, CU_DEVICE_ATTRIBUTE_COMPUTE_CAPABILITY_MINOR, p->device);
    cuDeviceGetAttribute(&max_threads, CU_DEVICE_ATTRIBUTE_MAX_THREADS_PER_BLOCK, p->device);
    cuDeviceGetAttribute(&max_block_z, CU_DEVICE_ATTRIBUTE_MAX_BLOCK_DIM_Z, p->device);
    cuDeviceGetAttribute(&shared, CU_DEVICE_ATTRIBUTE_MAX_SHARED_MEMORY_PER_BLOCK, p->device);
    cuDeviceGetAttribute(&shared_optin, CU_DEVICE_ATTRIBUTE_MAX_SHARED_MEMORY_PER_BLOCK_OPTIN, p->device);
    cuMemGetInfo(&free_bytes, &total_bytes);
    printf("device 0: %s, compute capability %d.%d\n", name, major, minor);
    printf("driver API %d.%d (built against cuda.h %d.%d)\n", p->driver_version / 1000,
           p->driver_version % 1000 / 10, CUDA_VERSION / 1000, CUDA_VERSION % 1000 / 10);
    printf("memory: %.1f GiB free of %.1f GiB\n", (double)free_bytes / GIB, (double)total_bytes / GIB);
    printf("granularity G: %zu bytes (minimum, pinned device memory); host page: %zu bytes\n",
           p->granularity, p->page);
    printf("limits: %d threads per block, block.z up to %d, %d bytes of shared memory per block (%d opted in)\n",
           max_threads, max_block_z, shared, shared_optin);
    fflush(stdout);
}

// A check that may poison its context runs in a child forked before this process touches CUDA,
// with a context of its own; its lines are kept and printed where they belong.
typedef struct
{
    char *text;
    int status;
} isolated_result;

static isolated_result run_isolated(const char *cubin_dir, void (*check)(probe *))
{
    isolated_result result = {NULL, -1};
    int fds[2];
    if (pipe(fds) != 0)
    {
        perror("gpu-probe: pipe");
        return result;
    }
    fflush(stdout);
    const pid_t pid = fork();
    if (pid < 0)
    {
        perror("gpu-probe: fork");
        close(fds[0]);
        close(fds[1]);
        return result;
    }
    if (pid == 0)
    {
        close(fds[0]);
        dup2(fds[1], STDOUT_FILENO);
        close(fds[1]);
        // A copy that never completes must not hold up the whole probe.
        alarm(60);
        probe p = {.cubin_dir = cubin_dir};
        if (probe_open(&p))
        {
            check(&p);
        }
        fflush(stdout);
        _exit(probe_exit_status());
    }
    close(fds[1]);
    size_t length = 0, capacity = 4096;
    result.text = malloc(capacity);
    for (;;)
    {
        if (length + 1 == capacity)
        {
            capacity *= 2;
            result.text = realloc(result.text, capacity);
        }
        const ssize_t n = read(fds[0], result.text + length, capacity - length - 1);
        if (n <= 0)
        {
            break;
        }
        length += (size_t)n;
    }
    result.text[length] = '\0';
    close(fds[0]);
    int status = 0;
    waitpid(pid, &status, 0);
    result.status = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
    return result;
}

static void print_isolated(isolated_result *result)
{
    if (result->text != NULL)
    {
        fputs(result->text, stdout);
    }
    switch (result->status)
    {
    case 0:
        break;
    case 1:
        // The child printed the DIFFERS line; it counts here too.
        count_differs(1);
        break;
    case 2:
        count_setup_failures(1);
        break;
    default:
        if (result->status > 128)
        {
            printf("SETUP FAILED: the isolated check was killed by signal %d%s\n", result->status - 128,
                   result->status - 128 == SIGALRM ? ", after 60 s" : "");
        }
        else
        {
            printf("SETUP FAILED: the isolated check could not run (status %d)\n", result->status);
        }
        count_setup_failures(1);
        break;
    }
    fflush(stdout);
    free(result->text);
    result->text = NULL;
}

int main(int argc, char **argv)
{
    if (argc != 2)
    {
        fprintf(stderr, "usage: %s <directory of the kernels' cubins>\n", argv[0]);
        return 2;
    }

    isolated_result unallocated = run_isolated(argv[1], memory_copy_unallocated);
    isolated_result without_access = run_isolated(argv[1], memory_copy_without_access);

    probe p = {.cubin_dir = argv[1]};
    if (!probe_open(&p))
    {
        return probe_exit_status();
    }
    describe(&p);
    const bool modules = probe_load_modules(&p);

    section("virtual memory management");
    memory_rules(&p);
    print_isolated(&unallocated);
    print_isolated(&without_access);

    section("host memory");
    host_memory_rules(&p);

    if (modules)
    {
        section("launches");
        launch_rules(&p);
        section("streams and events");
        stream_rules(&p);
    }

    section("timing: map, access and unmap of a range in units");
    vm_timing(&p);

    if (modules)
    {
        section("fault and reset");
        fault_and_reset(&p);
    }

    const int status = probe_exit_status();
    printf("\ngpu-probe: %s\n", status == 0   ? "the driver behaves as the Sim does"
                                : status == 1 ? "FAILED: a finding DIFFERS from the Sim"
                                              : "FAILED: a question could not be asked (SETUP FAILED above)");
    return status;
}
