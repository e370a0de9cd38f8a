/* Regions, buffers, modules, functions and models (sections 4.1 to 4.3 and 4.5). */
#include "internal.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

/* A request whose reply is one handle (RegionRegistered, BufferAllocated, FunctionFound). */
static gpumux_error call_for_handle(gpumux_client *client, uint16_t type, const writer *payload, int fd,
                                    uint32_t *handle, const char *what)
{
    frame reply;
    gpumux_error error = gpumux__call(client, type, payload, fd, type | MSG_REPLY_BIT, &reply);
    if (error != GPUMUX_OK) {
        return error;
    }
    *handle = gpumux__reader_u32(&reply.payload);
    return gpumux__decode_ended(client, &reply.payload, what);
}

/* A request of one handle answered by Ok (ReleaseRegion, FreeBuffer, UnloadModule, UnregisterModel). */
static gpumux_error call_with_handle(gpumux_client *client, uint16_t type, uint32_t handle)
{
    writer w = {0};
    gpumux__writer_u32(&w, handle);
    frame reply;
    gpumux_error error = gpumux__call(client, type, &w, -1, MSG_OK, &reply);
    gpumux__writer_free(&w);
    return error;
}

/* A sealable memfd of `bytes`, as section 4.1 asks. */
static int shared_file(gpumux_client *client, uint64_t bytes, gpumux_error *error)
{
    int fd = memfd_create("gpumux", MFD_CLOEXEC | MFD_ALLOW_SEALING);
    if (fd < 0) {
        *error = gpumux__fail_errno(client, "memfd_create");
        return -1;
    }
    if (ftruncate(fd, (off_t)bytes) != 0) {
        *error = gpumux__fail_errno(client, "ftruncate");
        close(fd);
        return -1;
    }
    return fd;
}

gpumux_error gpumux_region_create(gpumux_client *client, uint64_t bytes, gpumux_region **out)
{
    if (client == NULL || out == NULL || bytes == 0 || bytes > (uint64_t)SIZE_MAX || bytes > (uint64_t)INT64_MAX) {
        return client != NULL ? gpumux__fail(client, GPUMUX_ERR_USAGE, "a region needs a client, an out pointer and a size") : GPUMUX_ERR_USAGE;
    }
    *out = NULL;
    gpumux_region *region = calloc(1, sizeof *region);
    if (region == NULL) {
        return gpumux__fail(client, GPUMUX_ERR_NO_MEMORY, "out of memory for a region");
    }
    gpumux_error error = GPUMUX_OK;
    int fd = shared_file(client, bytes, &error);
    if (fd < 0) {
        free(region);
        return error;
    }
    region->size = bytes;
    region->data = mmap(NULL, (size_t)bytes, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
    if (region->data == MAP_FAILED) {
        error = gpumux__fail_errno(client, "mmap");
        close(fd);
        free(region);
        return error;
    }
    writer w = {0};
    gpumux__writer_u64(&w, bytes);
    error = call_for_handle(client, MSG_REGISTER_REGION, &w, fd, &region->handle, "RegionRegistered");
    gpumux__writer_free(&w);
    close(fd);
    if (error != GPUMUX_OK) {
        munmap(region->data, (size_t)bytes);
        free(region);
        return error;
    }
    region->next = client->regions;
    client->regions = region;
    *out = region;
    return GPUMUX_OK;
}

void *gpumux_region_data(const gpumux_region *region) { return region->data; }
uint64_t gpumux_region_size(const gpumux_region *region) { return region->size; }

gpumux_error gpumux_region_release(gpumux_client *client, gpumux_region *region)
{
    if (client == NULL || region == NULL) {
        return GPUMUX_ERR_USAGE;
    }
    gpumux_region **link = &client->regions;
    while (*link != NULL && *link != region) {
        link = &(*link)->next;
    }
    if (*link == NULL) {
        return gpumux__fail(client, GPUMUX_ERR_USAGE, "the region is not this client's");
    }
    *link = region->next;
    /* The daemon keeps its own mapping until the steps that use the region finish, so ours can go now. */
    gpumux_error error = client->closed ? GPUMUX_OK : call_with_handle(client, MSG_RELEASE_REGION, region->handle);
    munmap(region->data, (size_t)region->size);
    free(region);
    return error;
}

void gpumux__release_client_regions(gpumux_client *client)
{
    while (client->regions != NULL) {
        gpumux_region *region = client->regions;
        client->regions = region->next;
        munmap(region->data, (size_t)region->size);
        free(region);
    }
}

gpumux_error gpumux_buffer_allocate(gpumux_client *client, uint64_t bytes, gpumux_buffer *out)
{
    if (client == NULL || out == NULL) {
        return GPUMUX_ERR_USAGE;
    }
    writer w = {0};
    gpumux__writer_u64(&w, bytes);
    gpumux_error error = call_for_handle(client, MSG_ALLOCATE_BUFFER, &w, -1, &out->id, "BufferAllocated");
    gpumux__writer_free(&w);
    return error;
}

gpumux_error gpumux_buffer_free(gpumux_client *client, gpumux_buffer buffer)
{
    return client != NULL ? call_with_handle(client, MSG_FREE_BUFFER, buffer.id) : GPUMUX_ERR_USAGE;
}

gpumux_error gpumux_module_load_fd(gpumux_client *client, gpumux_module_format format, int fd, uint64_t bytes,
                                   const char *name, gpumux_module *out, bool *from_cache)
{
    if (client == NULL || out == NULL || fd < 0) {
        return GPUMUX_ERR_USAGE;
    }
    writer w = {0};
    gpumux__writer_u8(&w, (uint8_t)format);
    gpumux__writer_u64(&w, bytes);
    gpumux__writer_string(&w, name != NULL ? name : "module");
    frame reply;
    gpumux_error error = gpumux__call(client, MSG_LOAD_MODULE, &w, fd, MSG_LOAD_MODULE | MSG_REPLY_BIT, &reply);
    gpumux__writer_free(&w);
    if (error != GPUMUX_OK) {
        return error;
    }
    out->id = gpumux__reader_u32(&reply.payload);
    uint8_t cached = gpumux__reader_u8(&reply.payload);
    gpumux__reader_string(&reply.payload, client->message, sizeof client->message);
    if (from_cache != NULL) {
        *from_cache = cached != 0;
    }
    return gpumux__decode_ended(client, &reply.payload, "ModuleLoaded");
}

gpumux_error gpumux_module_load(gpumux_client *client, gpumux_module_format format, const void *image, size_t bytes,
                                const char *name, gpumux_module *out, bool *from_cache)
{
    if (client == NULL || (image == NULL && bytes > 0)) {
        return GPUMUX_ERR_USAGE;
    }
    gpumux_error error = GPUMUX_OK;
    int fd = shared_file(client, 0, &error);
    if (fd < 0) {
        return error;
    }
    size_t written = 0;
    while (written < bytes) {
        ssize_t n = write(fd, (const uint8_t *)image + written, bytes - written);
        if (n < 0 && errno != EINTR) {
            error = gpumux__fail_errno(client, "write");
            close(fd);
            return error;
        }
        written += n > 0 ? (size_t)n : 0;
    }
    error = gpumux_module_load_fd(client, format, fd, bytes, name, out, from_cache);
    close(fd);
    return error;
}

gpumux_error gpumux_module_unload(gpumux_client *client, gpumux_module module)
{
    return client != NULL ? call_with_handle(client, MSG_UNLOAD_MODULE, module.id) : GPUMUX_ERR_USAGE;
}

gpumux_error gpumux_function_get(gpumux_client *client, gpumux_module module, const char *name, gpumux_function *out)
{
    if (client == NULL || name == NULL || out == NULL) {
        return GPUMUX_ERR_USAGE;
    }
    writer w = {0};
    gpumux__writer_u32(&w, module.id);
    gpumux__writer_string(&w, name);
    gpumux_error error = call_for_handle(client, MSG_GET_FUNCTION, &w, -1, &out->id, "FunctionFound");
    gpumux__writer_free(&w);
    return error;
}

gpumux_error gpumux_model_register_fd(gpumux_client *client, int fd, const char *name, const uint32_t *groups,
                                      uint32_t group_count, gpumux_model_info *out)
{
    if (client == NULL || fd < 0 || name == NULL || out == NULL || (groups == NULL && group_count > 0)) {
        return GPUMUX_ERR_USAGE;
    }
    writer w = {0};
    gpumux__writer_string(&w, name);
    gpumux__writer_u32(&w, group_count);
    for (uint32_t i = 0; i < group_count; i++) {
        gpumux__writer_u32(&w, groups[i]);
    }
    frame reply;
    gpumux_error error = gpumux__call(client, MSG_REGISTER_MODEL, &w, fd, MSG_REGISTER_MODEL | MSG_REPLY_BIT, &reply);
    gpumux__writer_free(&w);
    if (error != GPUMUX_OK) {
        return error;
    }
    reader *r = &reply.payload;
    out->model.id = gpumux__reader_u32(r);
    out->tensor_count = gpumux__reader_u32(r);
    out->bytes = gpumux__reader_u64(r);
    out->tier = gpumux__reader_u8(r);
    out->groups = gpumux__reader_u32(r);
    return gpumux__decode_ended(client, r, "ModelRegistered");
}

gpumux_error gpumux_model_unregister(gpumux_client *client, gpumux_model model)
{
    return client != NULL ? call_with_handle(client, MSG_UNREGISTER_MODEL, model.id) : GPUMUX_ERR_USAGE;
}

gpumux_error gpumux_tensor_get(gpumux_client *client, gpumux_model model, const char *name, gpumux_tensor *out,
                               uint64_t *bytes, uint32_t *group)
{
    if (client == NULL || name == NULL || out == NULL) {
        return GPUMUX_ERR_USAGE;
    }
    writer w = {0};
    gpumux__writer_u32(&w, model.id);
    gpumux__writer_string(&w, name);
    frame reply;
    gpumux_error error = gpumux__call(client, MSG_GET_TENSOR, &w, -1, MSG_GET_TENSOR | MSG_REPLY_BIT, &reply);
    gpumux__writer_free(&w);
    if (error != GPUMUX_OK) {
        return error;
    }
    out->id = gpumux__reader_u32(&reply.payload);
    uint64_t tensor_bytes = gpumux__reader_u64(&reply.payload);
    uint32_t tensor_group = gpumux__reader_u32(&reply.payload);
    if (bytes != NULL) {
        *bytes = tensor_bytes;
    }
    if (group != NULL) {
        *group = tensor_group;
    }
    return gpumux__decode_ended(client, &reply.payload, "TensorFound");
}
