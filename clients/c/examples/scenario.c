/*
 * The clients' common scenario (clients/scenario.md) through libgpumux: one line per result,
 * "FAIL name: ..." and exit 1 at the first result that differs from the host's.
 */
#include <gpumux.h>

#include "sha256.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

enum { N = 4096, ROWS = 64, COLS = 128, REGION_BYTES = 1 << 20 };

/* Where each input and output sits in the one region. */
enum {
    X_AT = 0,
    Y_AT = X_AT + 4 * N,
    V_AT = Y_AT + 4 * N,
    W32_AT = V_AT + 4 * COLS,
    W16_AT = W32_AT + 4 * ROWS * COLS,
    WB16_AT = W16_AT + 2 * ROWS * COLS,
    ZERO_AT = WB16_AT + 2 * ROWS * COLS,
    SUM_AT = ZERO_AT + 8,
    OUT_AT = SUM_AT + 8
};

static gpumux_client *client;

static void fail_with(const char *name, const char *what)
{
    printf("FAIL %s: %s\n", name, what);
    exit(1);
}

/* A library call that must succeed: its failure ends the scenario with the daemon's message. */
static void must(gpumux_error error, const char *name)
{
    if (error != GPUMUX_OK) {
        char what[1200];
        snprintf(what, sizeof what, "%s (%s)", gpumux_strerror(error),
                 client != NULL ? gpumux_last_message(client) : gpumux_connect_message());
        fail_with(name, what);
    }
}

static float x_at(int i) { return (float)((7 * i) % 101 - 50) / 8.0f; }
static float y_at(int i) { return (float)((3 * i) % 53 - 26) / 4.0f; }
static float w_at(int r, int c) { return (float)((5 * r + 3 * c) % 17 - 8) / 4.0f; }

static uint32_t bits_of(float f)
{
    uint32_t bits;
    memcpy(&bits, &f, sizeof bits);
    return bits;
}

/* IEEE half of a float that half holds exactly (zero or normal): the scenario's weights are. */
static uint16_t half_of(float f)
{
    uint32_t bits = bits_of(f);
    uint16_t sign = (uint16_t)(bits >> 16 & 0x8000u);
    if ((bits & 0x7fffffffu) == 0) {
        return sign;
    }
    int exponent = (int)(bits >> 23 & 0xff) - 127 + 15;
    return (uint16_t)(sign | (uint16_t)(exponent << 10) | (uint16_t)(bits >> 13 & 0x3ffu));
}

static uint16_t bfloat16_of(float f) { return (uint16_t)(bits_of(f) >> 16); }

/* The checksum kernel's definition (native/kernels/checksum.cu): words mixed with their index, summed. */
static uint64_t mix64(uint64_t x)
{
    x ^= x >> 30;
    x *= 0xbf58476d1ce4e5b9ull;
    x ^= x >> 27;
    x *= 0x94d049bb133111ebull;
    x ^= x >> 31;
    return x;
}

static uint64_t checksum_of(const uint8_t *bytes, uint64_t length)
{
    uint64_t sum = 0;
    for (uint64_t i = 0; 4 * i < length; i++) {
        uint32_t word = 0;
        for (uint64_t b = 0; b < 4 && 4 * i + b < length; b++) {
            word |= (uint32_t)bytes[4 * i + b] << (8 * b);
        }
        sum += mix64(i << 32 | word);
    }
    return sum;
}

static void print_digest(const char *name, const void *bytes, size_t length)
{
    char hex[65];
    sha256_hex(bytes, length, hex);
    printf("%s %s\n", name, hex);
}

static gpumux_function function(const char *name)
{
    gpumux_function f;
    must(gpumux_function_get(client, GPUMUX_BUILTIN_MODULE, name, &f), name);
    return f;
}

static void run(gpumux_step *step, const char *name, gpumux_step_result *result)
{
    must(gpumux_step_run(client, step, result), name);
    gpumux_step_clear(step);
}

static void launch(gpumux_step *step, const char *kernel, uint32_t blocks, uint32_t threads, const gpumux_arg *args,
                   size_t count)
{
    const uint32_t grid[3] = {blocks, 1, 1}, block[3] = {threads, 1, 1};
    must(gpumux_step_launch(step, function(kernel), grid, block, 0, args, count), kernel);
}

/* gemv's result for every row, against the host's sum (exact in f32 for these inputs). */
static void check_gemv(const char *name, const uint8_t *region)
{
    float out[ROWS];
    memcpy(out, region + OUT_AT, sizeof out);
    for (int r = 0; r < ROWS; r++) {
        double expected = 0;
        for (int c = 0; c < COLS; c++) {
            expected += (double)w_at(r, c) * (double)x_at(c);
        }
        if (out[r] != (float)expected) {
            char what[128];
            snprintf(what, sizeof what, "row %d is %.9g, not %.9g", r, (double)out[r], expected);
            fail_with(name, what);
        }
    }
    print_digest(name, out, sizeof out);
}

/* A safetensors file in a memfd: one F32 tensor "w" of ROWS x COLS (docs/protocol.md section 4.5). */
static int model_file(void)
{
    char header[160];
    int length = snprintf(header, sizeof header, "{\"w\":{\"dtype\":\"F32\",\"shape\":[%d,%d],\"data_offsets\":[0,%d]}}",
                          ROWS, COLS, 4 * ROWS * COLS);
    while (length % 8 != 0) {
        header[length++] = ' ';
    }
    int fd = memfd_create("scenario-model", MFD_CLOEXEC);
    uint8_t prefix[8];
    for (int i = 0; i < 8; i++) {
        prefix[i] = (uint8_t)((uint64_t)length >> (8 * i));
    }
    float w[ROWS * COLS];
    for (int r = 0; r < ROWS; r++) {
        for (int c = 0; c < COLS; c++) {
            w[r * COLS + c] = w_at(r, c);
        }
    }
    if (fd < 0 || write(fd, prefix, 8) != 8 || write(fd, header, (size_t)length) != length ||
        write(fd, w, sizeof w) != (ssize_t)sizeof w) {
        fail_with("model", "could not write the safetensors file");
    }
    return fd;
}

int main(void)
{
    if (getenv("GPUMUX_HOST") == NULL) {
        fprintf(stderr, "GPUMUX_HOST is not set: no daemon to run the scenario against\n");
        return 77;
    }
    must(gpumux_connect(NULL, "scenario-c", &client), "connect");

    /* 1. The quota: only that the report has this uid's entry, since its figures vary. */
    gpumux_quota quota;
    must(gpumux_quota_get(client, &quota), "quota");

    /* 2. A lease, read back. */
    must(gpumux_lease_acquire(client, "standard", 0, 60000, 0, NULL), "lease");
    bool has_lease;
    gpumux_lease lease;
    must(gpumux_lease_get(client, &has_lease, &lease), "lease");
    if (!has_lease || strcmp(lease.class_name, "standard") != 0) {
        fail_with("lease", has_lease ? lease.class_name : "no lease");
    }

    /* 3. The region and the buffers. */
    gpumux_region *region;
    must(gpumux_region_create(client, REGION_BYTES, &region), "region");
    uint8_t *memory = gpumux_region_data(region);
    gpumux_buffer X, Y, W32, W16, WB16, V, OUT, SUM;
    const struct { gpumux_buffer *buffer; uint64_t bytes; } buffers[] = {
        {&X, 4 * N}, {&Y, 4 * N}, {&W32, 4 * ROWS * COLS}, {&W16, 2 * ROWS * COLS},
        {&WB16, 2 * ROWS * COLS}, {&V, 4 * COLS}, {&OUT, 4 * ROWS}, {&SUM, 8},
    };
    for (size_t i = 0; i < sizeof buffers / sizeof buffers[0]; i++) {
        must(gpumux_buffer_allocate(client, buffers[i].bytes, buffers[i].buffer), "buffers");
    }

    float *x = (float *)(memory + X_AT), *y = (float *)(memory + Y_AT), *v = (float *)(memory + V_AT);
    float *w32 = (float *)(memory + W32_AT);
    uint16_t *w16 = (uint16_t *)(memory + W16_AT), *wb16 = (uint16_t *)(memory + WB16_AT);
    for (int i = 0; i < N; i++) {
        x[i] = x_at(i);
        y[i] = y_at(i);
    }
    for (int c = 0; c < COLS; c++) {
        v[c] = x_at(c);
    }
    for (int r = 0; r < ROWS; r++) {
        for (int c = 0; c < COLS; c++) {
            w32[r * COLS + c] = w_at(r, c);
            w16[r * COLS + c] = half_of(w_at(r, c));
            wb16[r * COLS + c] = bfloat16_of(w_at(r, c));
        }
    }

    /* 4. Inputs in, axpy, Y out. */
    gpumux_step *step;
    gpumux_step_result result;
    must(gpumux_step_create(&step), "step");
    const struct { uint64_t at; gpumux_buffer buffer; uint64_t bytes; } inputs[] = {
        {X_AT, X, 4 * N}, {Y_AT, Y, 4 * N}, {V_AT, V, 4 * COLS}, {W32_AT, W32, 4 * ROWS * COLS},
        {W16_AT, W16, 2 * ROWS * COLS}, {WB16_AT, WB16, 2 * ROWS * COLS}, {ZERO_AT, SUM, 8},
    };
    for (size_t i = 0; i < sizeof inputs / sizeof inputs[0]; i++) {
        must(gpumux_step_copy_in(step, region, inputs[i].at, inputs[i].buffer, 0, inputs[i].bytes), "axpy");
    }
    const gpumux_arg axpy_args[] = {gpumux_arg_buffer(Y, 0), gpumux_arg_buffer(X, 0), gpumux_arg_f32(0.75f), gpumux_arg_u64(N)};
    launch(step, "axpy_f32", N / 256, 256, axpy_args, 4);
    must(gpumux_step_copy_out(step, Y, 0, region, Y_AT, 4 * N), "axpy");
    run(step, "axpy", &result);
    for (int i = 0; i < N; i++) {
        if (y[i] != 0.75f * x_at(i) + y_at(i)) {
            char what[96];
            snprintf(what, sizeof what, "Y[%d] is %.9g", i, (double)y[i]);
            fail_with("axpy", what);
        }
    }
    print_digest("axpy", y, 4 * N);

    /* 5. The three gemv kernels, one warp per row. */
    const struct { const char *kernel; gpumux_buffer w; } gemvs[] = {
        {"gemv_f32", W32}, {"gemv_f16", W16}, {"gemv_bf16", WB16},
    };
    for (size_t g = 0; g < 3; g++) {
        memset(memory + OUT_AT, 0, 4 * ROWS);
        const gpumux_arg zero_args[] = {gpumux_arg_buffer(OUT, 0), gpumux_arg_f32(0.0f), gpumux_arg_u64(ROWS)};
        launch(step, "fill_f32", 1, 256, zero_args, 3);
        const gpumux_arg args[] = {gpumux_arg_buffer(gemvs[g].w, 0), gpumux_arg_buffer(V, 0), gpumux_arg_buffer(OUT, 0),
                                   gpumux_arg_u32(ROWS), gpumux_arg_u32(COLS)};
        launch(step, gemvs[g].kernel, ROWS * 32 / 256, 256, args, 5);
        must(gpumux_step_copy_out(step, OUT, 0, region, OUT_AT, 4 * ROWS), gemvs[g].kernel);
        run(step, gemvs[g].kernel, &result);
        check_gemv(gemvs[g].kernel, memory);
    }

    /* 6. fill, then the checksum of what it wrote. */
    const gpumux_arg fill_args[] = {gpumux_arg_buffer(X, 0), gpumux_arg_f32(1.5f), gpumux_arg_u64(N)};
    launch(step, "fill_f32", N / 256, 256, fill_args, 3);
    const gpumux_arg checksum_args[] = {gpumux_arg_buffer(X, 0), gpumux_arg_u64(4 * N), gpumux_arg_buffer(SUM, 0)};
    launch(step, "checksum", N / 256, 256, checksum_args, 3);
    must(gpumux_step_copy_out(step, X, 0, region, X_AT, 4 * N), "fill");
    must(gpumux_step_copy_out(step, SUM, 0, region, SUM_AT, 8), "checksum");
    run(step, "fill", &result);
    for (int i = 0; i < N; i++) {
        if (x[i] != 1.5f) {
            char what[96];
            snprintf(what, sizeof what, "X[%d] is %.9g", i, (double)x[i]);
            fail_with("fill", what);
        }
    }
    print_digest("fill", x, 4 * N);
    uint64_t sum;
    memcpy(&sum, memory + SUM_AT, sizeof sum);
    if (sum != checksum_of((const uint8_t *)x, 4 * N)) {
        char what[64];
        snprintf(what, sizeof what, "%016llx", (unsigned long long)sum);
        fail_with("checksum", what);
    }
    printf("checksum %016llx\n", (unsigned long long)sum);

    /* 7. spin, and its completion's times. */
    const gpumux_arg spin_args[] = {gpumux_arg_u64(100)};
    launch(step, "spin", 1, 1, spin_args, 1);
    run(step, "spin", &result);
    if (!(result.queued_at_ns <= result.started_at_ns && result.started_at_ns <= result.ended_at_ns)) {
        char what[128];
        snprintf(what, sizeof what, "queued %lld, started %lld, ended %lld", (long long)result.queued_at_ns,
                 (long long)result.started_at_ns, (long long)result.ended_at_ns);
        fail_with("spin", what);
    }
    printf("spin ordered\n");

    /* 8. A model from a safetensors file, its tensor as gemv's weights. OUT is zeroed first, so a
     * launch that did nothing cannot pass on step 5's result. */
    int fd = model_file();
    gpumux_model_info model;
    must(gpumux_model_register_fd(client, fd, "scenario-w", NULL, 0, &model), "model_gemv");
    close(fd);
    gpumux_tensor tensor;
    must(gpumux_tensor_get(client, model.model, "w", &tensor, NULL, NULL), "model_gemv");
    must(gpumux_step_use_model(step, model.model), "model_gemv");
    const gpumux_arg zero_args[] = {gpumux_arg_buffer(OUT, 0), gpumux_arg_f32(0.0f), gpumux_arg_u64(ROWS)};
    launch(step, "fill_f32", 1, 256, zero_args, 3);
    const gpumux_arg model_args[] = {gpumux_arg_tensor(tensor, 0), gpumux_arg_buffer(V, 0), gpumux_arg_buffer(OUT, 0),
                                     gpumux_arg_u32(ROWS), gpumux_arg_u32(COLS)};
    launch(step, "gemv_f32", ROWS * 32 / 256, 256, model_args, 5);
    must(gpumux_step_copy_out(step, OUT, 0, region, OUT_AT, 4 * ROWS), "model_gemv");
    memset(memory + OUT_AT, 0, 4 * ROWS);
    run(step, "model_gemv", &result);
    check_gemv("model_gemv", memory);

    /* 9. An expected error, and the session going on after it. */
    gpumux_function missing;
    gpumux_error error = gpumux_function_get(client, GPUMUX_BUILTIN_MODULE, "no_such_kernel", &missing);
    if (error != GPUMUX_UNKNOWN_FUNCTION) {
        fail_with("error", gpumux_strerror(error));
    }
    printf("error %s\n", gpumux_strerror(error));
    launch(step, "fill_f32", N / 256, 256, fill_args, 3);
    run(step, "error", &result);

    /* 10. */
    must(gpumux_lease_release(client), "lease");
    gpumux_step_destroy(step);
    gpumux_close(client);
    printf("scenario ok\n");
    return 0;
}
