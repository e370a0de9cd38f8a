// Host memory: what cuMemHostRegister and cuMemHostUnregister refuse, with the flag the daemon
// registers clients' memory with (CU_MEMHOSTREGISTER_PORTABLE).
#define _DEFAULT_SOURCE

#include <stdio.h>
#include <sys/mman.h>

#include "probe.h"

void host_memory_rules(probe *p)
{
    const size_t page = p->page;
    const size_t length = 4 * page;
    char *base = mmap(NULL, length, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (base == MAP_FAILED)
    {
        perror("gpu-probe: mmap");
        count_setup_failures(1);
        return;
    }
    for (size_t i = 0; i < length; i += page)
    {
        base[i] = 1;
    }

    // The header states no alignment for the pointer or the size; the project asks for whole pages.
    CUresult result = cuMemHostRegister(base + 1, 4096, CU_MEMHOSTREGISTER_PORTABLE);
    report_result("host-register-unaligned", CUDA_ERROR_INVALID_VALUE, result, true);
    note("4096 bytes at one byte past a page boundary");
    if (result == CUDA_SUCCESS)
    {
        (void)cuMemHostUnregister(base + 1);
    }

    REQUIRE(cuMemHostRegister(base, 2 * page, CU_MEMHOSTREGISTER_PORTABLE));
    // Pages 1 and 2, of which page 1 is registered already.
    result = cuMemHostRegister(base + page, 2 * page, CU_MEMHOSTREGISTER_PORTABLE);
    report_result("host-register-overlap", CUDA_ERROR_HOST_MEMORY_ALREADY_REGISTERED, result, false);
    if (result == CUDA_SUCCESS)
    {
        (void)cuMemHostUnregister(base + page);
    }

    // Header: "The base address must be the same one specified to cuMemHostRegister()."
    result = cuMemHostUnregister(base + page);
    report_result("host-unregister-not-base", CUDA_ERROR_HOST_MEMORY_NOT_REGISTERED, result, false);
    if (result == CUDA_SUCCESS)
    {
        (void)cuMemHostUnregister(base);
    }
    else
    {
        REQUIRE(cuMemHostUnregister(base));
    }

done:
    munmap(base, length);
}
