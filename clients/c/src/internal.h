/* What the library's files share: the client's state, framing, and payload encoding. Its functions are
 * prefixed gpumux__ so that the static library cannot collide with a program's own names. */
#ifndef GPUMUX_INTERNAL_H
#define GPUMUX_INTERNAL_H

#include "gpumux.h"

#include <stdarg.h>

enum {
    FRAME_HEADER_BYTES = 12,
    HANDSHAKE_PAYLOAD_LIMIT = 4096,
    ERROR_MESSAGE_LIMIT = 1024
};

enum message_type {
    MSG_HELLO = 0x0001,
    MSG_REGISTER_REGION = 0x0002,
    MSG_RELEASE_REGION = 0x0003,
    MSG_ALLOCATE_BUFFER = 0x0004,
    MSG_FREE_BUFFER = 0x0005,
    MSG_LOAD_MODULE = 0x0006,
    MSG_UNLOAD_MODULE = 0x0007,
    MSG_GET_FUNCTION = 0x0008,
    MSG_SUBMIT_STEP = 0x0009,
    MSG_GET_STATUS = 0x000A,
    MSG_REGISTER_MODEL = 0x000B,
    MSG_UNREGISTER_MODEL = 0x000C,
    MSG_GET_TENSOR = 0x000D,
    MSG_ACQUIRE_LEASE = 0x0011,
    MSG_RELEASE_LEASE = 0x0012,
    MSG_GET_LEASE = 0x0013,
    MSG_GET_TENANTS = 0x0014,
    MSG_OK = 0x8000,
    MSG_MODEL_PROGRESS = 0x8010,
    MSG_ERROR = 0x80FF,
    MSG_REPLY_BIT = 0x8000
};

/* A payload being written: grows on the heap; a failed growth is remembered, not reported per call. */
typedef struct writer {
    uint8_t *bytes;
    size_t length, capacity;
    bool failed;
} writer;

void gpumux__writer_u8(writer *w, uint8_t v);
void gpumux__writer_u16(writer *w, uint16_t v);
void gpumux__writer_u32(writer *w, uint32_t v);
void gpumux__writer_u64(writer *w, uint64_t v);
void gpumux__writer_f32(writer *w, float v);
void gpumux__writer_f64(writer *w, double v);
void gpumux__writer_bytes(writer *w, const void *bytes, size_t length);
/* A string of at most 65535 bytes; a longer one fails the writer. */
void gpumux__writer_string(writer *w, const char *s);
void gpumux__writer_free(writer *w);

/* A received payload being read; reading past its end sets `failed` and yields zeros. */
typedef struct reader {
    const uint8_t *bytes;
    size_t length, position;
    bool failed;
} reader;

uint8_t gpumux__reader_u8(reader *r);
uint16_t gpumux__reader_u16(reader *r);
uint32_t gpumux__reader_u32(reader *r);
uint64_t gpumux__reader_u64(reader *r);
double gpumux__reader_f64(reader *r);
/* Copies the string into out (size bytes, truncated, always terminated). */
void gpumux__reader_string(reader *r, char *out, size_t size);
bool gpumux__reader_at_end(const reader *r);

typedef struct frame {
    uint16_t type;
    uint32_t request_id;
    reader payload;
} frame;

struct gpumux_step {
    writer ops;
    uint16_t op_count;
};

typedef struct completion_queue {
    gpumux_step_result *items;
    size_t count, capacity;
} completion_queue;

struct gpumux_client {
    int fd;
    bool closed;
    uint32_t next_request_id;
    uint32_t max_payload;
    gpumux_welcome welcome;
    uint8_t *receive;            /* bytes read and not yet consumed */
    size_t received, consumed, receive_capacity;
    uint32_t *pending_steps;     /* submitted, completion not yet read */
    size_t pending_count, pending_capacity;
    completion_queue completions;
    gpumux_region *regions;
    char message[ERROR_MESSAGE_LIMIT + 1024];
};

struct gpumux_region {
    gpumux_region *next;
    uint32_t handle;
    void *data;
    uint64_t size;
};

/* Sets the client's message (printf-style) and returns code. */
gpumux_error gpumux__fail(gpumux_client *client, gpumux_error code, const char *format, ...)
    __attribute__((format(printf, 3, 4)));
gpumux_error gpumux__fail_errno(gpumux_client *client, const char *call);
/* Copies text into out (size bytes), cut short where it does not fit, always terminated. */
void gpumux__copy_text(char *out, size_t size, const char *text);

uint32_t gpumux__next_request_id(gpumux_client *client);
/* Sends a frame in one sendmsg with descriptor fd (or none when fd < 0). */
gpumux_error gpumux__send_frame(gpumux_client *client, uint16_t type, uint32_t request_id, const writer *payload, int fd);
/*
 * Reads the reply to request_id, keeping step completions that arrive meanwhile, and passing over
 * ModelProgress. Returns GPUMUX_OK with *reply of type expected; an Error frame's code; or the
 * library's error. The payload stays valid until the next read.
 */
gpumux_error gpumux__await_reply(gpumux_client *client, uint32_t request_id, uint16_t expected, frame *reply);
/* One request with a payload, awaiting a reply of type expected. */
gpumux_error gpumux__call(gpumux_client *client, uint16_t type, const writer *payload, int fd, uint16_t expected, frame *reply);
/* Reads a frame; blocking or not (GPUMUX_ERR_AGAIN). Step completions are queued, not returned. */
gpumux_error gpumux__read_frame(gpumux_client *client, bool blocking, frame *out, bool *was_completion);
gpumux_error gpumux__decode_ended(gpumux_client *client, const reader *r, const char *what);
void gpumux__release_client_regions(gpumux_client *client);

#endif
