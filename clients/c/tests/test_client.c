/* libgpumux against a real daemon, named by GPUMUX_HOST (skipped, exit 77, without one). */
#include <gpumux.h>

#include "check.h"

#include <poll.h>
#include <stdint.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

static gpumux_client *client;

static gpumux_step *fill_step(gpumux_region *region, gpumux_buffer buffer, float value, uint64_t count)
{
    gpumux_step *step;
    gpumux_function fill;
    EXPECT(GPUMUX_OK, gpumux_step_create(&step), client);
    EXPECT(GPUMUX_OK, gpumux_function_get(client, GPUMUX_BUILTIN_MODULE, "fill_f32", &fill), client);
    const uint32_t grid[3] = {1, 1, 1}, block[3] = {256, 1, 1};
    const gpumux_arg args[] = {gpumux_arg_buffer(buffer, 0), gpumux_arg_f32(value), gpumux_arg_u64(count)};
    EXPECT(GPUMUX_OK, gpumux_step_launch(step, fill, grid, block, 0, args, 3), client);
    EXPECT(GPUMUX_OK, gpumux_step_copy_out(step, buffer, 0, region, 0, 4 * count), client);
    return step;
}

static void the_handshake_speaks_1_5_to_the_sim(void)
{
    const gpumux_welcome *welcome = gpumux_welcome_info(client);
    CHECK(welcome->minor == GPUMUX_PROTOCOL_MINOR);
    CHECK(welcome->backend == 2);
    CHECK(welcome->session_id != 0);
    CHECK(welcome->max_payload_bytes >= 4096);
    CHECK(welcome->device_name[0] != '\0');
}

static void steps_in_flight_complete_through_the_descriptor(void)
{
    gpumux_region *region;
    gpumux_buffer buffers[3];
    uint32_t ids[3];
    gpumux_step *steps[3];
    EXPECT(GPUMUX_OK, gpumux_region_create(client, 3 * 4096, &region), client);
    for (int i = 0; i < 3; i++) {
        EXPECT(GPUMUX_OK, gpumux_buffer_allocate(client, 4096, &buffers[i]), client);
    }
    /* Three steps out at once, each filling its own part of the region. */
    for (int i = 0; i < 3; i++) {
        steps[i] = fill_step(region, buffers[i], (float)(i + 1), 1024);
        gpumux_step_clear(steps[i]);
        gpumux_function fill;
        EXPECT(GPUMUX_OK, gpumux_function_get(client, GPUMUX_BUILTIN_MODULE, "fill_f32", &fill), client);
        const uint32_t grid[3] = {4, 1, 1}, block[3] = {256, 1, 1};
        const gpumux_arg args[] = {gpumux_arg_buffer(buffers[i], 0), gpumux_arg_f32((float)(i + 1)), gpumux_arg_u64(1024)};
        EXPECT(GPUMUX_OK, gpumux_step_launch(steps[i], fill, grid, block, 0, args, 3), client);
        EXPECT(GPUMUX_OK, gpumux_step_copy_out(steps[i], buffers[i], 0, region, 4096 * (uint64_t)i, 4096), client);
        EXPECT(GPUMUX_OK, gpumux_step_submit(client, steps[i], &ids[i]), client);
    }
    CHECK(ids[0] != ids[1] && ids[1] != ids[2] && ids[0] != ids[2]);
    int seen = 0;
    while (seen != 7) {
        gpumux_step_result result;
        gpumux_error error = gpumux_step_poll(client, &result);
        if (error == GPUMUX_ERR_AGAIN) {
            struct pollfd p = {gpumux_fd(client), POLLIN, 0};
            CHECK(poll(&p, 1, 30000) == 1);
            continue;
        }
        EXPECT(GPUMUX_OK, error, client);
        CHECK(result.status == GPUMUX_OK && result.message[0] == '\0');
        for (int i = 0; i < 3; i++) {
            if (result.request_id == ids[i]) {
                CHECK((seen & 1 << i) == 0);
                seen |= 1 << i;
            }
        }
    }
    gpumux_step_result none;
    EXPECT(GPUMUX_ERR_AGAIN, gpumux_step_poll(client, &none), client);
    const float *data = gpumux_region_data(region);
    for (int i = 0; i < 3; i++) {
        CHECK(data[1024 * i] == (float)(i + 1) && data[1024 * i + 1023] == (float)(i + 1));
        gpumux_step_destroy(steps[i]);
        EXPECT(GPUMUX_OK, gpumux_buffer_free(client, buffers[i]), client);
    }
    /* wait finds a completion that poll has not taken, and leaves poll the others. */
    gpumux_buffer buffer;
    EXPECT(GPUMUX_OK, gpumux_buffer_allocate(client, 4096, &buffer), client);
    gpumux_step *step = fill_step(region, buffer, 9.0f, 1024);
    uint32_t first, second;
    EXPECT(GPUMUX_OK, gpumux_step_submit(client, step, &first), client);
    EXPECT(GPUMUX_OK, gpumux_step_submit(client, step, &second), client);
    gpumux_step_result result;
    EXPECT(GPUMUX_OK, gpumux_step_wait(client, second, &result), client);
    CHECK(result.request_id == second);
    EXPECT(GPUMUX_OK, gpumux_step_poll(client, &result), client);
    CHECK(result.request_id == first);
    EXPECT(GPUMUX_ERR_USAGE, gpumux_step_wait(client, first, &result), client);
    gpumux_step_destroy(step);
    EXPECT(GPUMUX_OK, gpumux_buffer_free(client, buffer), client);
    EXPECT(GPUMUX_OK, gpumux_region_release(client, region), client);
}

static void the_daemons_errors_come_back_with_their_codes_and_messages(void)
{
    gpumux_buffer buffer;
    EXPECT(GPUMUX_INVALID_ARGUMENT, gpumux_buffer_allocate(client, 0, &buffer), client);
    CHECK(gpumux_last_message(client)[0] != '\0');
    EXPECT(GPUMUX_UNKNOWN_HANDLE, gpumux_buffer_free(client, (gpumux_buffer){12345}), client);
    EXPECT(GPUMUX_INVALID_ARGUMENT, gpumux_module_unload(client, GPUMUX_BUILTIN_MODULE), client);
    gpumux_function function;
    EXPECT(GPUMUX_UNKNOWN_FUNCTION, gpumux_function_get(client, GPUMUX_BUILTIN_MODULE, "no_such_kernel", &function), client);

    /* A step's failure is its completion's status, and the session goes on. */
    gpumux_region *region;
    EXPECT(GPUMUX_OK, gpumux_region_create(client, 4096, &region), client);
    gpumux_step *step = fill_step(region, (gpumux_buffer){54321}, 1.0f, 16);
    gpumux_step_result result;
    EXPECT(GPUMUX_UNKNOWN_HANDLE, gpumux_step_run(client, step, &result), client);
    CHECK(result.status == GPUMUX_UNKNOWN_HANDLE && result.message[0] != '\0');
    CHECK(result.started_at_ns == 0 && result.ended_at_ns == 0);
    CHECK(strcmp(gpumux_last_message(client), result.message) == 0);
    gpumux_step_destroy(step);

    /* Already late with fail_if_late: refused at once. */
    EXPECT(GPUMUX_OK, gpumux_buffer_allocate(client, 64, &buffer), client);
    EXPECT(GPUMUX_OK, gpumux_step_create(&step), client);
    EXPECT(GPUMUX_OK, gpumux_step_schedule(step, 1, GPUMUX_SCHEDULE_FAIL_IF_LATE), client);
    EXPECT(GPUMUX_OK, gpumux_step_copy_in(step, region, 0, buffer, 0, 64), client);
    EXPECT(GPUMUX_DEADLINE_MISSED, gpumux_step_run(client, step, &result), client);
    gpumux_step_clear(step);
    EXPECT(GPUMUX_OK, gpumux_step_run(client, step, &result), client);
    CHECK(result.queued_at_ns <= result.started_at_ns && result.started_at_ns <= result.ended_at_ns);
    gpumux_step_destroy(step);
    EXPECT(GPUMUX_OK, gpumux_region_release(client, region), client);
}

static const char fill_source[] =
    "extern \"C\" __global__ void fill_f32(float* dst, float value, unsigned long long count)\n"
    "{\n"
    "    unsigned long long i = blockIdx.x * (unsigned long long)blockDim.x + threadIdx.x;\n"
    "    if (i < count) { dst[i] = value; }\n"
    "}\n";

static void modules_load_from_cuda_c_and_ptx(void)
{
    gpumux_module module;
    gpumux_function function;
    bool from_cache = true;
    EXPECT(GPUMUX_OK, gpumux_module_load(client, GPUMUX_MODULE_CUDA_C, fill_source, sizeof fill_source - 1, "fill.cu",
                                         &module, &from_cache), client);
    CHECK(module.id != 0);
    EXPECT(GPUMUX_OK, gpumux_function_get(client, module, "fill_f32", &function), client);

    gpumux_region *region;
    gpumux_buffer buffer;
    EXPECT(GPUMUX_OK, gpumux_region_create(client, 4096, &region), client);
    EXPECT(GPUMUX_OK, gpumux_buffer_allocate(client, 4096, &buffer), client);
    gpumux_step *step;
    EXPECT(GPUMUX_OK, gpumux_step_create(&step), client);
    const uint32_t grid[3] = {4, 1, 1}, block[3] = {256, 1, 1};
    const gpumux_arg args[] = {gpumux_arg_buffer(buffer, 0), gpumux_arg_f32(-3.25f), gpumux_arg_u64(1024)};
    EXPECT(GPUMUX_OK, gpumux_step_launch(step, function, grid, block, 0, args, 3), client);
    EXPECT(GPUMUX_OK, gpumux_step_copy_out(step, buffer, 0, region, 0, 4096), client);
    gpumux_step_result result;
    EXPECT(GPUMUX_OK, gpumux_step_run(client, step, &result), client);
    CHECK(((const float *)gpumux_region_data(region))[1023] == -3.25f);
    gpumux_step_destroy(step);
    EXPECT(GPUMUX_OK, gpumux_module_unload(client, module), client);
    EXPECT(GPUMUX_UNKNOWN_HANDLE, gpumux_function_get(client, module, "fill_f32", &function), client);

    static const char broken[] = "extern \"C\" __global__ void not_a_builtin(int* p) { *p = 1; }\n";
    EXPECT(GPUMUX_COMPILE_FAILED, gpumux_module_load(client, GPUMUX_MODULE_CUDA_C, broken, sizeof broken - 1, "broken.cu",
                                                     &module, NULL), client);
    CHECK(strstr(gpumux_last_message(client), "not_a_builtin") != NULL);

    static const char ptx[] = ".version 8.0\n.target sm_80\n.address_size 64\n.visible .entry spin(\n.param .u64 p\n)\n{\nret;\n}\n";
    EXPECT(GPUMUX_OK, gpumux_module_load(client, GPUMUX_MODULE_PTX, ptx, sizeof ptx - 1, "spin.ptx", &module, NULL), client);
    EXPECT(GPUMUX_OK, gpumux_function_get(client, module, "spin", &function), client);
    EXPECT(GPUMUX_OK, gpumux_buffer_free(client, buffer), client);
    EXPECT(GPUMUX_OK, gpumux_region_release(client, region), client);
}

static void models_register_from_a_descriptor(void)
{
    static const char header[] = "{\"a\":{\"dtype\":\"F32\",\"shape\":[4],\"data_offsets\":[0,16]},"
                                 "\"b\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[16,24]}}";
    int fd = memfd_create("model", MFD_CLOEXEC);
    CHECK(fd >= 0);
    uint8_t prefix[8] = {(uint8_t)(sizeof header - 1)};
    const float data[6] = {1, 2, 3, 4, 5, 6};
    CHECK(write(fd, prefix, 8) == 8);
    CHECK(write(fd, header, sizeof header - 1) == (ssize_t)(sizeof header - 1));
    CHECK(write(fd, data, sizeof data) == (ssize_t)sizeof data);

    gpumux_model_info info;
    const uint32_t groups[] = {1, 1};
    EXPECT(GPUMUX_OK, gpumux_model_register_fd(client, fd, "two", groups, 2, &info), client);
    CHECK(info.model.id != 0 && info.tensor_count == 2 && info.bytes == 24 && info.groups == 2);
    CHECK(info.tier == 1 || info.tier == 2);
    gpumux_tensor tensor;
    uint64_t bytes = 0;
    uint32_t group = 99;
    EXPECT(GPUMUX_OK, gpumux_tensor_get(client, info.model, "b", &tensor, &bytes, &group), client);
    CHECK(bytes == 8 && group == 1);
    EXPECT(GPUMUX_UNKNOWN_TENSOR, gpumux_tensor_get(client, info.model, "c", &tensor, NULL, NULL), client);
    EXPECT(GPUMUX_OK, gpumux_model_unregister(client, info.model), client);
    EXPECT(GPUMUX_UNKNOWN_HANDLE, gpumux_tensor_get(client, info.model, "a", &tensor, NULL, NULL), client);

    /* Not safetensors: the daemon names the problem. */
    CHECK(ftruncate(fd, 4) == 0);
    EXPECT(GPUMUX_INVALID_MODEL, gpumux_model_register_fd(client, fd, "short", NULL, 0, &info), client);
    CHECK(gpumux_last_message(client)[0] != '\0');
    close(fd);
}

static void leases_status_and_quota(void)
{
    gpumux_lease lease;
    bool has_lease = true;
    EXPECT(GPUMUX_OK, gpumux_lease_get(client, &has_lease, &lease), client);
    CHECK(!has_lease && lease.class_name[0] == '\0' && lease.id == 0);
    EXPECT(GPUMUX_OK, gpumux_lease_acquire(client, "interactive", 5000, 60000, 0, &lease), client);
    CHECK(strcmp(lease.class_name, "interactive") == 0 && lease.max_gpu_ns == 5000000000ull && !lease.expired);
    CHECK(lease.expires_at_unix_ms > lease.acquired_at_unix_ms);
    EXPECT(GPUMUX_INVALID_ARGUMENT, gpumux_lease_acquire(client, NULL, 0, 0, 0, NULL), client);
    EXPECT(GPUMUX_OK, gpumux_lease_get(client, &has_lease, &lease), client);
    CHECK(has_lease && strcmp(lease.class_name, "interactive") == 0);
    EXPECT(GPUMUX_OK, gpumux_lease_release(client), client);
    EXPECT(GPUMUX_INVALID_ARGUMENT, gpumux_lease_release(client), client);
    EXPECT(GPUMUX_INVALID_ARGUMENT, gpumux_lease_acquire(client, "no-such-class", 0, 0, 0, NULL), client);

    gpumux_status status;
    EXPECT(GPUMUX_OK, gpumux_status_get(client, &status), client);
    CHECK(status.backend == 2 && status.sessions_total >= 1 && status.total_bytes > 0 && status.uptime_ms >= 0);
    CHECK(strcmp(status.device_name, gpumux_welcome_info(client)->device_name) == 0);

    gpumux_quota quota;
    EXPECT(GPUMUX_OK, gpumux_quota_get(client, &quota), client);
    CHECK(quota.uid == (uint32_t)geteuid() && quota.sessions >= 1 && quota.steps > 0 && quota.weight > 0);
}

static void regions_left_open_go_with_the_client(void)
{
    gpumux_region *region;
    EXPECT(GPUMUX_OK, gpumux_region_create(client, 1 << 16, &region), client);
    memset(gpumux_region_data(region), 0xab, 1 << 16);
    CHECK(gpumux_region_size(region) == 1 << 16);
    EXPECT(GPUMUX_ERR_USAGE, gpumux_region_create(client, 0, &region), client);
}

int main(void)
{
    if (getenv("GPUMUX_HOST") == NULL) {
        fprintf(stderr, "GPUMUX_HOST is not set: no daemon to test against\n");
        return 77;
    }
    EXPECT(GPUMUX_OK, gpumux_connect(NULL, "libgpumux-tests", &client), client);
    the_handshake_speaks_1_5_to_the_sim();
    steps_in_flight_complete_through_the_descriptor();
    the_daemons_errors_come_back_with_their_codes_and_messages();
    modules_load_from_cuda_c_and_ptx();
    models_register_from_a_descriptor();
    leases_status_and_quota();
    regions_left_open_go_with_the_client();
    gpumux_close(client);
    puts("client ok");
    return 0;
}
