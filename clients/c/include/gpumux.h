/*
 * libgpumux: a C client of gpumuxd, the daemon that shares one GPU among many processes.
 *
 * It speaks the wire protocol of docs/protocol.md (1.5) over the daemon's Unix socket, with
 * nothing beyond libc. Every call returns a gpumux_error: GPUMUX_OK, one of the protocol's error
 * codes (the daemon's verdict, numbered as in its section 6), or one of the library's own
 * (negative). After a failure, gpumux_last_message() gives the daemon's message or the library's.
 *
 * Threads: a client is not thread-safe. Use each client from one thread at a time (serialise the
 * calls with a mutex of your own, or give each thread its own client). Different clients share
 * nothing and may be used from different threads at once. gpumux_strerror() is safe anywhere.
 *
 * Handles of the daemon's objects (buffers, modules, functions, models, tensors) are small typed
 * values; a region is an object of the library's, since it owns the shared mapping.
 */
#ifndef GPUMUX_H
#define GPUMUX_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#if defined(__GNUC__)
#define GPUMUX_API __attribute__((visibility("default")))
#else
#define GPUMUX_API
#endif

#define GPUMUX_PROTOCOL_MAJOR 1
#define GPUMUX_PROTOCOL_MINOR 5

typedef enum gpumux_error {
    GPUMUX_OK = 0,
    /* The daemon's codes, docs/protocol.md section 6. */
    GPUMUX_MALFORMED_FRAME = 1,
    GPUMUX_FRAME_TOO_LARGE = 2,
    GPUMUX_UNSUPPORTED_VERSION = 3,
    GPUMUX_HANDSHAKE_REQUIRED = 4,
    GPUMUX_UNKNOWN_MESSAGE = 5,
    GPUMUX_BAD_DESCRIPTOR = 6,
    GPUMUX_UNKNOWN_HANDLE = 7,
    GPUMUX_INVALID_ARGUMENT = 8,
    GPUMUX_OUT_OF_MEMORY = 9,
    GPUMUX_QUOTA_EXCEEDED = 10,
    GPUMUX_COMPILE_FAILED = 11,
    GPUMUX_MODULE_LOAD_FAILED = 12,
    GPUMUX_UNKNOWN_FUNCTION = 13,
    GPUMUX_KERNEL_FAULT = 14,
    GPUMUX_DEVICE_RESET = 15,
    GPUMUX_TOO_MANY_IN_FLIGHT = 16,
    GPUMUX_SHUTTING_DOWN = 17,
    GPUMUX_INTERNAL = 18,
    GPUMUX_PROTOCOL_VIOLATION = 19,
    GPUMUX_TOO_MANY_SESSIONS = 20,
    GPUMUX_INVALID_MODEL = 21,
    GPUMUX_MODEL_TOO_LARGE = 22,
    GPUMUX_UNKNOWN_TENSOR = 23,
    GPUMUX_DEADLINE_MISSED = 24,
    GPUMUX_LEASE_EXPIRED = 25,
    GPUMUX_DEVICE_LOST = 26,
    GPUMUX_PERMISSION_DENIED = 27,
    GPUMUX_STEP_TIMED_OUT = 28,
    /* The library's own. A code the daemon sends that is not above is passed on as it is. */
    GPUMUX_ERR_IO = -1,       /* a system call failed; the message says which, with errno's text */
    GPUMUX_ERR_CLOSED = -2,   /* the daemon closed the connection; the client can only be closed */
    GPUMUX_ERR_USAGE = -3,    /* a bad argument to the library (NULL, a size out of range, ...) */
    GPUMUX_ERR_NO_MEMORY = -4,/* malloc failed in this process */
    GPUMUX_ERR_PROTOCOL = -5, /* the daemon sent what this library cannot read */
    GPUMUX_ERR_AGAIN = -6,    /* gpumux_step_poll: no completion has arrived yet */
    GPUMUX_ERR_NOT_FOUND = -7 /* no entry for this process's uid in a report */
} gpumux_error;

/* A constant name for any code ("UnknownFunction", "ERR_IO"); "unknown" for others. */
GPUMUX_API const char *gpumux_strerror(gpumux_error code);

typedef struct gpumux_client gpumux_client;
typedef struct gpumux_region gpumux_region;
typedef struct { uint32_t id; } gpumux_buffer;
typedef struct { uint32_t id; } gpumux_module;
typedef struct { uint32_t id; } gpumux_function;
typedef struct { uint32_t id; } gpumux_model;
typedef struct { uint32_t id; } gpumux_tensor;

/* Module 0: the built-in kernels (fill_f32, axpy_f32, gemv_f32/f16/bf16, spin, checksum). */
static const gpumux_module GPUMUX_BUILTIN_MODULE = {0};

/* ---- Connection ---------------------------------------------------------------------------- */

/*
 * Connects and says Hello. socket_path NULL finds the daemon as section 1 says: $GPUMUX_HOST
 * ("unix:/path" or a path), else the user's own socket ($XDG_RUNTIME_DIR/gpumuxd.sock, or
 * /tmp/gpumuxd-<uid>/gpumuxd.sock) if it exists, else /run/gpumuxd/gpumuxd.sock. client_name (may
 * be NULL) is shown to operators. On failure *out is NULL and the message is in
 * gpumux_connect_message(), since there is no client to ask.
 */
GPUMUX_API gpumux_error gpumux_connect(const char *socket_path, const char *client_name, gpumux_client **out);
/* The message of this thread's last failed gpumux_connect. */
GPUMUX_API const char *gpumux_connect_message(void);

/* Closes the connection, unmaps every region still held and frees the client. NULL is fine. */
GPUMUX_API void gpumux_close(gpumux_client *client);

/* The message of the client's last failure: the daemon's text, or the library's. */
GPUMUX_API const char *gpumux_last_message(const gpumux_client *client);

typedef struct gpumux_welcome {
    uint16_t minor;               /* the minor both sides speak */
    uint64_t session_id;
    uint8_t backend;              /* 1 CUDA, 2 Sim */
    uint32_t max_payload_bytes;
    char backend_description[256];
    char device_name[256];        /* the first device's */
    uint64_t device_total_memory_bytes;
} gpumux_welcome;

GPUMUX_API const gpumux_welcome *gpumux_welcome_info(const gpumux_client *client);

/* ---- Regions and buffers ------------------------------------------------------------------- */

/*
 * Creates shared memory of `bytes` (a sealable memfd, mapped here) and registers it. The memory is
 * gpumux_region_data() until gpumux_region_release() or gpumux_close().
 */
GPUMUX_API gpumux_error gpumux_region_create(gpumux_client *client, uint64_t bytes, gpumux_region **out);
GPUMUX_API void *gpumux_region_data(const gpumux_region *region);
GPUMUX_API uint64_t gpumux_region_size(const gpumux_region *region);
/* Tells the daemon, unmaps and frees the region, whatever the daemon answers. */
GPUMUX_API gpumux_error gpumux_region_release(gpumux_client *client, gpumux_region *region);

GPUMUX_API gpumux_error gpumux_buffer_allocate(gpumux_client *client, uint64_t bytes, gpumux_buffer *out);
GPUMUX_API gpumux_error gpumux_buffer_free(gpumux_client *client, gpumux_buffer buffer);

/* ---- Modules and functions ----------------------------------------------------------------- */

typedef enum gpumux_module_format {
    GPUMUX_MODULE_CUDA_C = 1,
    GPUMUX_MODULE_PTX = 2,
    GPUMUX_MODULE_CUBIN = 3
} gpumux_module_format;

/*
 * Loads a module from `bytes` bytes of image (copied into a memfd for the daemon). from_cache may
 * be NULL. After a success gpumux_last_message() holds the compiler's warnings (often empty);
 * after GPUMUX_COMPILE_FAILED, its log.
 */
GPUMUX_API gpumux_error gpumux_module_load(gpumux_client *client, gpumux_module_format format, const void *image,
                                size_t bytes, const char *name, gpumux_module *out, bool *from_cache);
/* The same from the first `bytes` bytes of a regular file or memfd the caller opened (not closed). */
GPUMUX_API gpumux_error gpumux_module_load_fd(gpumux_client *client, gpumux_module_format format, int fd,
                                   uint64_t bytes, const char *name, gpumux_module *out, bool *from_cache);
GPUMUX_API gpumux_error gpumux_module_unload(gpumux_client *client, gpumux_module module);
GPUMUX_API gpumux_error gpumux_function_get(gpumux_client *client, gpumux_module module, const char *name,
                                 gpumux_function *out);

/* ---- Models -------------------------------------------------------------------------------- */

typedef struct gpumux_model_info {
    gpumux_model model;
    uint32_t tensor_count;
    uint64_t bytes;   /* the data section's */
    uint8_t tier;     /* 1 pinned, 2 file */
    uint32_t groups;
} gpumux_model_info;

/*
 * Registers the safetensors file open at fd (a regular file or a memfd; the caller still owns and
 * closes it). groups: group_count tensor counts per layer group, or NULL and 0 for the default.
 * The daemon's progress frames are read and passed over.
 */
GPUMUX_API gpumux_error gpumux_model_register_fd(gpumux_client *client, int fd, const char *name, const uint32_t *groups,
                                      uint32_t group_count, gpumux_model_info *out);
GPUMUX_API gpumux_error gpumux_model_unregister(gpumux_client *client, gpumux_model model);
/* bytes and group may be NULL. */
GPUMUX_API gpumux_error gpumux_tensor_get(gpumux_client *client, gpumux_model model, const char *name, gpumux_tensor *out,
                               uint64_t *bytes, uint32_t *group);

/* ---- Steps --------------------------------------------------------------------------------- */

typedef enum gpumux_arg_kind {
    GPUMUX_ARG_BUFFER = 1,
    GPUMUX_ARG_I32 = 2,
    GPUMUX_ARG_U32 = 3,
    GPUMUX_ARG_I64 = 4,
    GPUMUX_ARG_U64 = 5,
    GPUMUX_ARG_F32 = 6,
    GPUMUX_ARG_F64 = 7,
    GPUMUX_ARG_TENSOR = 8
} gpumux_arg_kind;

/* A kernel argument; build one with the gpumux_arg_* functions below. */
typedef struct gpumux_arg {
    gpumux_arg_kind kind;
    uint32_t handle; /* buffer or tensor */
    union {
        uint64_t offset; /* buffer or tensor */
        int32_t i32;
        uint32_t u32;
        int64_t i64;
        uint64_t u64;
        float f32;
        double f64;
    } value;
} gpumux_arg;

static inline gpumux_arg gpumux_arg_buffer(gpumux_buffer b, uint64_t offset)
{ gpumux_arg a = {GPUMUX_ARG_BUFFER, b.id, {0}}; a.value.offset = offset; return a; }
static inline gpumux_arg gpumux_arg_tensor(gpumux_tensor t, uint64_t offset)
{ gpumux_arg a = {GPUMUX_ARG_TENSOR, t.id, {0}}; a.value.offset = offset; return a; }
static inline gpumux_arg gpumux_arg_i32(int32_t v) { gpumux_arg a = {GPUMUX_ARG_I32, 0, {0}}; a.value.i32 = v; return a; }
static inline gpumux_arg gpumux_arg_u32(uint32_t v) { gpumux_arg a = {GPUMUX_ARG_U32, 0, {0}}; a.value.u32 = v; return a; }
static inline gpumux_arg gpumux_arg_i64(int64_t v) { gpumux_arg a = {GPUMUX_ARG_I64, 0, {0}}; a.value.i64 = v; return a; }
static inline gpumux_arg gpumux_arg_u64(uint64_t v) { gpumux_arg a = {GPUMUX_ARG_U64, 0, {0}}; a.value.u64 = v; return a; }
static inline gpumux_arg gpumux_arg_f32(float v) { gpumux_arg a = {GPUMUX_ARG_F32, 0, {0}}; a.value.f32 = v; return a; }
static inline gpumux_arg gpumux_arg_f64(double v) { gpumux_arg a = {GPUMUX_ARG_F64, 0, {0}}; a.value.f64 = v; return a; }

/* A step under construction: ops are appended in order; reusable after submission. */
typedef struct gpumux_step gpumux_step;

GPUMUX_API gpumux_error gpumux_step_create(gpumux_step **out);
GPUMUX_API void gpumux_step_destroy(gpumux_step *step);
/* Drops the ops, to build another step in the same memory. */
GPUMUX_API void gpumux_step_clear(gpumux_step *step);

GPUMUX_API gpumux_error gpumux_step_copy_in(gpumux_step *step, const gpumux_region *region, uint64_t region_offset,
                                 gpumux_buffer buffer, uint64_t buffer_offset, uint64_t bytes);
GPUMUX_API gpumux_error gpumux_step_copy_out(gpumux_step *step, gpumux_buffer buffer, uint64_t buffer_offset,
                                  const gpumux_region *region, uint64_t region_offset, uint64_t bytes);
/* grid and block: 3 dimensions each. */
GPUMUX_API gpumux_error gpumux_step_launch(gpumux_step *step, gpumux_function function, const uint32_t grid[3],
                                const uint32_t block[3], uint32_t shared_memory_bytes, const gpumux_arg *args,
                                size_t arg_count);
/* Binds the step to a model; must come before any copy or launch. */
GPUMUX_API gpumux_error gpumux_step_use_model(gpumux_step *step, gpumux_model model);

#define GPUMUX_SCHEDULE_FAIL_IF_LATE 0x01u
#define GPUMUX_SCHEDULE_ENDS_REQUEST 0x02u
/*
 * deadline_ns: when the step should have started, on CLOCK_MONOTONIC (0: none); flags the
 * GPUMUX_SCHEDULE_* bits. Must come before any copy or launch. fail_if_late holds for steps the
 * scheduler holds back; one issued to the device at once may start late with status 0.
 */
GPUMUX_API gpumux_error gpumux_step_schedule(gpumux_step *step, int64_t deadline_ns, uint8_t flags);

typedef struct gpumux_step_result {
    uint32_t request_id;
    gpumux_error status;   /* GPUMUX_OK, or the step's failure */
    int64_t queued_at_ns;  /* CLOCK_MONOTONIC */
    int64_t started_at_ns; /* 0 when the step never reached the GPU */
    int64_t ended_at_ns;
    char message[1025];    /* empty on success */
} gpumux_step_result;

/* Submits the step and waits for it; returns its status (or the library's error). */
GPUMUX_API gpumux_error gpumux_step_run(gpumux_client *client, const gpumux_step *step, gpumux_step_result *result);

/*
 * Submits without waiting; *request_id names the step's completion. Completions are read by
 * gpumux_step_wait (that step's, blocking) or gpumux_step_poll (any, never blocking).
 */
GPUMUX_API gpumux_error gpumux_step_submit(gpumux_client *client, const gpumux_step *step, uint32_t *request_id);
/* Blocks until the completion of request_id arrives; returns its status. */
GPUMUX_API gpumux_error gpumux_step_wait(gpumux_client *client, uint32_t request_id, gpumux_step_result *result);
/*
 * Gives one completion that has arrived, returning GPUMUX_OK (the step's own status is in
 * result->status), or GPUMUX_ERR_AGAIN when none has. Completions that arrived while another call
 * waited are kept, so call this until GPUMUX_ERR_AGAIN before polling gpumux_fd() again.
 */
GPUMUX_API gpumux_error gpumux_step_poll(gpumux_client *client, gpumux_step_result *result);
/* The connection's descriptor: readable (POLLIN) when completions may have arrived. Do not read it. */
GPUMUX_API int gpumux_fd(const gpumux_client *client);

/* ---- Leases, status and quota -------------------------------------------------------------- */

typedef struct gpumux_lease {
    uint32_t id;
    char class_name[33];
    uint64_t gpu_ns_used;
    uint64_t max_gpu_ns;          /* 0: none */
    int64_t acquired_at_unix_ms;
    int64_t expires_at_unix_ms;   /* 0: none */
    uint64_t device_bytes;        /* in whole 2 MiB pages */
    uint64_t max_device_bytes;    /* 0: none */
    bool expired;
} gpumux_lease;

/* class_name NULL or "" for the default class; each limit 0 for none. out may be NULL. */
GPUMUX_API gpumux_error gpumux_lease_acquire(gpumux_client *client, const char *class_name, uint64_t max_gpu_ms,
                                  uint64_t max_duration_ms, uint64_t max_device_bytes, gpumux_lease *out);
/* *has_lease false leaves *out zeroed. */
GPUMUX_API gpumux_error gpumux_lease_get(gpumux_client *client, bool *has_lease, gpumux_lease *out);
GPUMUX_API gpumux_error gpumux_lease_release(gpumux_client *client);

typedef struct gpumux_status {
    uint8_t backend;
    char device_name[256];
    uint64_t free_bytes, total_bytes; /* the device's memory */
    uint64_t session_bytes;           /* all sessions' buffers */
    int64_t uptime_ms;
    uint32_t sessions_total;
} gpumux_status;

GPUMUX_API gpumux_error gpumux_status_get(gpumux_client *client, gpumux_status *out);

/* This process's tenant (its uid) as the daemon's TenantReport has it: what is used and what is left. */
typedef struct gpumux_quota {
    uint32_t uid;
    double weight;
    uint32_t sessions;
    uint64_t device_bytes, max_device_bytes;   /* in whole 2 MiB pages; 0: no limit */
    uint32_t leases, max_leases;               /* 0: no limit */
    double gpu_seconds_today, gpu_seconds_per_day; /* 0: no limit */
    int64_t resets_at_unix_ms;
    char highest_class[33];                    /* empty: any */
    double gpu_seconds;                        /* since the daemon started */
    uint64_t steps, swaps, bytes_moved;
    double queue_p50_ms, queue_p99_ms;         /* NaN before any step ran */
} gpumux_quota;

/* GPUMUX_ERR_NOT_FOUND when the report has no entry for this uid. */
GPUMUX_API gpumux_error gpumux_quota_get(gpumux_client *client, gpumux_quota *out);

#ifdef __cplusplus
}
#endif

#endif
