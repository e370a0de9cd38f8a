/* y = 2x + y over 1024 floats on gpumuxd's built-in axpy_f32: the shortest complete libgpumux program. */
#include <gpumux.h>

#include <stdio.h>
#include <stdlib.h>

#define CHECK(call)                                                                                 \
    do {                                                                                            \
        gpumux_error e_ = (call);                                                                   \
        if (e_ != GPUMUX_OK) {                                                                      \
            fprintf(stderr, "%s: %s %s\n", #call, gpumux_strerror(e_),                             \
                    client ? gpumux_last_message(client) : gpumux_connect_message());               \
            return 1;                                                                               \
        }                                                                                           \
    } while (0)

int main(void)
{
    if (getenv("GPUMUX_HOST") == NULL) {
        return 77; /* under CTest: skipped without a daemon to talk to */
    }
    enum { N = 1024 };
    gpumux_client *client = NULL;
    CHECK(gpumux_connect(NULL, "axpy-example", &client));

    gpumux_region *region;
    CHECK(gpumux_region_create(client, 2 * 4 * N, &region));
    float *x = gpumux_region_data(region), *y = x + N;
    for (int i = 0; i < N; i++) {
        x[i] = (float)i;
        y[i] = 1.0f;
    }

    gpumux_buffer bx, by;
    gpumux_function axpy;
    CHECK(gpumux_buffer_allocate(client, 4 * N, &bx));
    CHECK(gpumux_buffer_allocate(client, 4 * N, &by));
    CHECK(gpumux_function_get(client, GPUMUX_BUILTIN_MODULE, "axpy_f32", &axpy));

    gpumux_step *step;
    gpumux_step_result result;
    const uint32_t grid[3] = {N / 256, 1, 1}, block[3] = {256, 1, 1};
    const gpumux_arg args[] = {gpumux_arg_buffer(by, 0), gpumux_arg_buffer(bx, 0), gpumux_arg_f32(2.0f), gpumux_arg_u64(N)};
    CHECK(gpumux_step_create(&step));
    CHECK(gpumux_step_copy_in(step, region, 0, bx, 0, 4 * N));
    CHECK(gpumux_step_copy_in(step, region, 4 * N, by, 0, 4 * N));
    CHECK(gpumux_step_launch(step, axpy, grid, block, 0, args, 4));
    CHECK(gpumux_step_copy_out(step, by, 0, region, 4 * N, 4 * N));
    CHECK(gpumux_step_run(client, step, &result));

    printf("y[10] = %g, the GPU's part took %lld ns\n", (double)y[10], (long long)(result.ended_at_ns - result.started_at_ns));
    int status = y[10] == 21.0f ? 0 : 1;
    gpumux_step_destroy(step);
    gpumux_close(client);
    return status;
}
