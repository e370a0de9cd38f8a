/* The connection: finding the socket, the handshake, and frames in and out (sections 1 to 3). */
#include "internal.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

enum { RECEIVE_DESCRIPTORS = 4 };

static _Thread_local char connect_message[512];

const char *gpumux_connect_message(void)
{
    return connect_message;
}

static bool exists(const char *path)
{
    struct stat st;
    return stat(path, &st) == 0;
}

/* The user's own socket directory under /tmp counts only if it is the user's alone (section 1). */
static bool private_directory(const char *path)
{
    struct stat st;
    return lstat(path, &st) == 0 && S_ISDIR(st.st_mode) && st.st_uid == geteuid() && (st.st_mode & 022) == 0;
}

static gpumux_error resolve_path(const char *given, char *out, size_t size)
{
    const char *host = given != NULL ? given : getenv("GPUMUX_HOST");
    if (host != NULL && host[0] != '\0') {
        const char *path = strncmp(host, "unix:", 5) == 0 ? host + 5 : host;
        if (path[0] == '\0' || strstr(path, "://") != NULL) {
            snprintf(connect_message, sizeof connect_message,
                     "'%s' is not a Unix socket address; expected unix:/path/to/gpumuxd.sock", host);
            return GPUMUX_ERR_USAGE;
        }
        if (strlen(path) >= size) {
            snprintf(connect_message, sizeof connect_message, "a socket path is at most %zu bytes", size - 1);
            return GPUMUX_ERR_USAGE;
        }
        gpumux__copy_text(out, size, path);
        return GPUMUX_OK;
    }
    const char *runtime = getenv("XDG_RUNTIME_DIR");
    char directory[256];
    if (runtime != NULL && runtime[0] != '\0') {
        snprintf(out, size, "%s/gpumuxd.sock", runtime);
    } else {
        snprintf(directory, sizeof directory, "/tmp/gpumuxd-%u", (unsigned)geteuid());
        snprintf(out, size, "%s/gpumuxd.sock", directory);
        if (!private_directory(directory)) {
            out[0] = '\0';
        }
    }
    if (out[0] == '\0' || !exists(out)) {
        snprintf(out, size, "/run/gpumuxd/gpumuxd.sock");
    }
    return GPUMUX_OK;
}

uint32_t gpumux__next_request_id(gpumux_client *client)
{
    if (client->next_request_id == 0) {
        client->next_request_id = 1;
    }
    return client->next_request_id++;
}

gpumux_error gpumux__send_frame(gpumux_client *client, uint16_t type, uint32_t request_id, const writer *payload, int fd)
{
    if (client->closed) {
        return gpumux__fail(client, GPUMUX_ERR_CLOSED, "the connection to the daemon is closed");
    }
    if (payload->failed) {
        return gpumux__fail(client, GPUMUX_ERR_NO_MEMORY, "out of memory encoding a request, or a string over 65535 bytes");
    }
    if (payload->length > client->max_payload) {
        return gpumux__fail(client, GPUMUX_ERR_USAGE, "a request of %zu bytes is over the daemon's limit of %u",
                    payload->length, (unsigned)client->max_payload);
    }
    uint8_t header[FRAME_HEADER_BYTES];
    uint32_t length = (uint32_t)payload->length;
    const uint32_t fields[3] = {length, (uint32_t)type | (fd >= 0 ? 1u << 16 : 0u), request_id};
    for (int f = 0; f < 3; f++) {
        for (int i = 0; i < 4; i++) {
            header[4 * f + i] = (uint8_t)(fields[f] >> (8 * i));
        }
    }
    struct iovec parts[2] = {{header, sizeof header}, {payload->bytes, payload->length}};
    size_t total = sizeof header + payload->length;
    size_t sent = 0;
    bool descriptor_sent = fd < 0;
    while (sent < total) {
        /* The descriptor travels with the frame's first byte, in the first sendmsg (section 2). */
        struct iovec rest[2];
        int count = 0;
        size_t skip = sent;
        for (int i = 0; i < 2; i++) {
            if (skip >= parts[i].iov_len) {
                skip -= parts[i].iov_len;
                continue;
            }
            rest[count].iov_base = (uint8_t *)parts[i].iov_base + skip;
            rest[count].iov_len = parts[i].iov_len - skip;
            skip = 0;
            count++;
        }
        union {
            char buffer[CMSG_SPACE(sizeof(int))];
            struct cmsghdr align;
        } control;
        struct msghdr message = {.msg_iov = rest, .msg_iovlen = (size_t)count};
        if (!descriptor_sent) {
            memset(&control, 0, sizeof control);
            message.msg_control = control.buffer;
            message.msg_controllen = sizeof control.buffer;
            struct cmsghdr *c = CMSG_FIRSTHDR(&message);
            c->cmsg_level = SOL_SOCKET;
            c->cmsg_type = SCM_RIGHTS;
            c->cmsg_len = CMSG_LEN(sizeof(int));
            memcpy(CMSG_DATA(c), &fd, sizeof fd);
        }
        ssize_t n = sendmsg(client->fd, &message, MSG_NOSIGNAL);
        if (n < 0) {
            if (errno == EINTR) {
                continue;
            }
            if (errno == EPIPE || errno == ECONNRESET) {
                client->closed = true;
                return gpumux__fail(client, GPUMUX_ERR_CLOSED, "the daemon closed the connection");
            }
            return gpumux__fail_errno(client, "sendmsg");
        }
        descriptor_sent = true;
        sent += (size_t)n;
    }
    return GPUMUX_OK;
}

/* Reads what the socket has; the daemon sends no descriptors, so any that come are closed. */
static gpumux_error receive_more(gpumux_client *client, bool blocking)
{
    if (client->consumed > 0) {
        memmove(client->receive, client->receive + client->consumed, client->received - client->consumed);
        client->received -= client->consumed;
        client->consumed = 0;
    }
    struct iovec space = {client->receive + client->received, client->receive_capacity - client->received};
    union {
        char buffer[CMSG_SPACE(RECEIVE_DESCRIPTORS * sizeof(int))];
        struct cmsghdr align;
    } control;
    struct msghdr message = {.msg_iov = &space, .msg_iovlen = 1, .msg_control = control.buffer,
                             .msg_controllen = sizeof control.buffer};
    ssize_t n;
    do {
        n = recvmsg(client->fd, &message, MSG_CMSG_CLOEXEC | (blocking ? 0 : MSG_DONTWAIT));
    } while (n < 0 && errno == EINTR);
    if (n < 0) {
        if (errno == EAGAIN || errno == EWOULDBLOCK) {
            return GPUMUX_ERR_AGAIN;
        }
        if (errno == ECONNRESET) {
            client->closed = true;
            return gpumux__fail(client, GPUMUX_ERR_CLOSED, "the daemon reset the connection");
        }
        return gpumux__fail_errno(client, "recvmsg");
    }
    for (struct cmsghdr *c = CMSG_FIRSTHDR(&message); c != NULL; c = CMSG_NXTHDR(&message, c)) {
        if (c->cmsg_level == SOL_SOCKET && c->cmsg_type == SCM_RIGHTS) {
            size_t count = (c->cmsg_len - CMSG_LEN(0)) / sizeof(int);
            for (size_t i = 0; i < count; i++) {
                int stray;
                memcpy(&stray, CMSG_DATA(c) + i * sizeof(int), sizeof stray);
                close(stray);
            }
        }
    }
    if (n == 0) {
        client->closed = true;
        /* Keep the daemon's last word (an Error frame before its close) if there was one. */
        if (client->message[0] == '\0') {
            gpumux__fail(client, GPUMUX_ERR_CLOSED, "the daemon closed the connection");
        }
        return GPUMUX_ERR_CLOSED;
    }
    client->received += (size_t)n;
    return GPUMUX_OK;
}

static gpumux_error queue_completion(gpumux_client *client, const gpumux_step_result *result)
{
    completion_queue *q = &client->completions;
    if (q->count == q->capacity) {
        size_t capacity = q->capacity ? q->capacity * 2 : 8;
        gpumux_step_result *grown = realloc(q->items, capacity * sizeof *grown);
        if (grown == NULL) {
            return gpumux__fail(client, GPUMUX_ERR_NO_MEMORY, "out of memory queueing a step's completion");
        }
        q->items = grown;
        q->capacity = capacity;
    }
    q->items[q->count++] = *result;
    for (size_t i = 0; i < client->pending_count; i++) {
        if (client->pending_steps[i] == result->request_id) {
            client->pending_steps[i] = client->pending_steps[--client->pending_count];
            break;
        }
    }
    return GPUMUX_OK;
}

static bool step_pending(const gpumux_client *client, uint32_t request_id)
{
    for (size_t i = 0; i < client->pending_count; i++) {
        if (client->pending_steps[i] == request_id) {
            return true;
        }
    }
    return false;
}

static gpumux_error decode_completion(gpumux_client *client, const frame *f)
{
    reader r = f->payload;
    gpumux_step_result result = {.request_id = f->request_id};
    result.status = (gpumux_error)gpumux__reader_u16(&r);
    result.queued_at_ns = (int64_t)gpumux__reader_u64(&r);
    result.started_at_ns = (int64_t)gpumux__reader_u64(&r);
    result.ended_at_ns = (int64_t)gpumux__reader_u64(&r);
    gpumux__reader_string(&r, result.message, sizeof result.message);
    gpumux_error error = gpumux__decode_ended(client, &r, "StepCompleted");
    return error != GPUMUX_OK ? error : queue_completion(client, &result);
}

/* An Error frame's code, and its text as the client's message. */
static gpumux_error error_frame(gpumux_client *client, const frame *f)
{
    reader r = f->payload;
    uint16_t code = gpumux__reader_u16(&r);
    char text[ERROR_MESSAGE_LIMIT + 1];
    gpumux__reader_string(&r, text, sizeof text);
    if (r.failed) {
        return gpumux__fail(client, GPUMUX_ERR_PROTOCOL, "the daemon sent an Error frame that does not decode");
    }
    return gpumux__fail(client, (gpumux_error)code, "%s", text);
}

gpumux_error gpumux__read_frame(gpumux_client *client, bool blocking, frame *out, bool *was_completion)
{
    *was_completion = false;
    for (;;) {
        size_t available = client->received - client->consumed;
        if (available >= FRAME_HEADER_BYTES) {
            const uint8_t *h = client->receive + client->consumed;
            uint32_t length = (uint32_t)h[0] | (uint32_t)h[1] << 8 | (uint32_t)h[2] << 16 | (uint32_t)h[3] << 24;
            if (length > client->receive_capacity - FRAME_HEADER_BYTES) {
                client->closed = true;
                return gpumux__fail(client, GPUMUX_ERR_PROTOCOL, "the daemon announced a frame of %u bytes", (unsigned)length);
            }
            if (h[6] != 0) {
                client->closed = true;
                return gpumux__fail(client, GPUMUX_ERR_PROTOCOL, "the daemon sent a frame with descriptors");
            }
            if (available >= FRAME_HEADER_BYTES + (size_t)length) {
                out->type = (uint16_t)(h[4] | h[5] << 8);
                out->request_id = (uint32_t)h[8] | (uint32_t)h[9] << 8 | (uint32_t)h[10] << 16 | (uint32_t)h[11] << 24;
                out->payload = (reader){h + FRAME_HEADER_BYTES, length, 0, false};
                client->consumed += FRAME_HEADER_BYTES + length;
                if (out->type == (MSG_SUBMIT_STEP | MSG_REPLY_BIT)) {
                    *was_completion = true;
                    return decode_completion(client, out);
                }
                /* A SubmitStep that does not decode is answered by an Error, which ends that step. */
                if (out->type == MSG_ERROR && step_pending(client, out->request_id)) {
                    gpumux_step_result result = {.request_id = out->request_id};
                    result.status = error_frame(client, out);
                    gpumux__copy_text(result.message, sizeof result.message, client->message);
                    *was_completion = true;
                    return queue_completion(client, &result);
                }
                return GPUMUX_OK;
            }
        }
        gpumux_error error = receive_more(client, blocking);
        if (error != GPUMUX_OK) {
            return error;
        }
    }
}

gpumux_error gpumux__await_reply(gpumux_client *client, uint32_t request_id, uint16_t expected, frame *reply)
{
    for (;;) {
        bool was_completion;
        gpumux_error error = gpumux__read_frame(client, true, reply, &was_completion);
        if (error != GPUMUX_OK || was_completion) {
            if (error != GPUMUX_OK) {
                return error;
            }
            continue;
        }
        if (reply->type == MSG_ERROR) {
            /* Id 0 (or another) on an Error: a verdict on the stream, after which the daemon closes. */
            return error_frame(client, reply);
        }
        if (reply->request_id != request_id) {
            return gpumux__fail(client, GPUMUX_ERR_PROTOCOL, "a reply of type 0x%04x to request %u while request %u waits",
                        reply->type, (unsigned)reply->request_id, (unsigned)request_id);
        }
        if (reply->type == MSG_MODEL_PROGRESS) {
            continue;
        }
        if (reply->type != expected) {
            return gpumux__fail(client, GPUMUX_ERR_PROTOCOL, "a reply of type 0x%04x where 0x%04x was expected",
                        reply->type, expected);
        }
        return GPUMUX_OK;
    }
}

gpumux_error gpumux__call(gpumux_client *client, uint16_t type, const writer *payload, int fd, uint16_t expected, frame *reply)
{
    uint32_t id = gpumux__next_request_id(client);
    gpumux_error error = gpumux__send_frame(client, type, id, payload, fd);
    if (error != GPUMUX_OK) {
        return error;
    }
    error = gpumux__await_reply(client, id, expected, reply);
    if (error == GPUMUX_OK) {
        client->message[0] = '\0';
    }
    return error;
}

gpumux_error gpumux__decode_ended(gpumux_client *client, const reader *r, const char *what)
{
    if (!gpumux__reader_at_end(r)) {
        return gpumux__fail(client, GPUMUX_ERR_PROTOCOL, "the daemon's %s does not decode (%zu of %zu bytes read)", what,
                    r->position, r->length);
    }
    return GPUMUX_OK;
}

static gpumux_error hello(gpumux_client *client, const char *client_name)
{
    writer w = {0};
    gpumux__writer_u32(&w, 0x58554D47u);
    gpumux__writer_u16(&w, GPUMUX_PROTOCOL_MAJOR);
    gpumux__writer_u16(&w, GPUMUX_PROTOCOL_MINOR);
    gpumux__writer_u64(&w, 0);
    gpumux__writer_string(&w, client_name != NULL ? client_name : "libgpumux");
    frame reply;
    gpumux_error error = gpumux__call(client, MSG_HELLO, &w, -1, MSG_HELLO | MSG_REPLY_BIT, &reply);
    gpumux__writer_free(&w);
    if (error != GPUMUX_OK) {
        return error;
    }
    reader r = reply.payload;
    gpumux_welcome *info = &client->welcome;
    uint32_t magic = gpumux__reader_u32(&r);
    uint16_t major = gpumux__reader_u16(&r);
    info->minor = gpumux__reader_u16(&r);
    gpumux__reader_u64(&r); /* capabilities: this library asks for none */
    info->max_payload_bytes = gpumux__reader_u32(&r);
    info->session_id = gpumux__reader_u64(&r);
    info->backend = gpumux__reader_u8(&r);
    gpumux__reader_string(&r, info->backend_description, sizeof info->backend_description);
    uint16_t devices = gpumux__reader_u16(&r);
    for (uint16_t d = 0; d < devices && !r.failed; d++) {
        char name[256], bus[64];
        gpumux__reader_u16(&r);
        gpumux__reader_string(&r, name, sizeof name);
        uint64_t memory = gpumux__reader_u64(&r);
        gpumux__reader_u8(&r);
        gpumux__reader_u8(&r);
        gpumux__reader_u16(&r);
        gpumux__reader_string(&r, bus, sizeof bus);
        if (d == 0) {
            memcpy(info->device_name, name, sizeof name);
            info->device_total_memory_bytes = memory;
        }
    }
    if ((error = gpumux__decode_ended(client, &r, "Welcome")) != GPUMUX_OK) {
        return error;
    }
    if (magic != 0x58554D47u || major != GPUMUX_PROTOCOL_MAJOR) {
        return gpumux__fail(client, GPUMUX_ERR_PROTOCOL, "the daemon answered with magic 0x%08x and major %u",
                    (unsigned)magic, (unsigned)major);
    }
    if (info->max_payload_bytes > client->receive_capacity - FRAME_HEADER_BYTES) {
        uint8_t *grown = realloc(client->receive, FRAME_HEADER_BYTES + (size_t)info->max_payload_bytes);
        if (grown == NULL) {
            return gpumux__fail(client, GPUMUX_ERR_NO_MEMORY, "out of memory for the receive buffer");
        }
        client->receive = grown;
        client->receive_capacity = FRAME_HEADER_BYTES + (size_t)info->max_payload_bytes;
    }
    client->max_payload = info->max_payload_bytes;
    return GPUMUX_OK;
}

gpumux_error gpumux_connect(const char *socket_path, const char *client_name, gpumux_client **out)
{
    if (out == NULL) {
        return GPUMUX_ERR_USAGE;
    }
    *out = NULL;
    connect_message[0] = '\0';
    struct sockaddr_un address = {.sun_family = AF_UNIX};
    gpumux_error error = resolve_path(socket_path, address.sun_path, sizeof address.sun_path);
    if (error != GPUMUX_OK) {
        return error;
    }
    gpumux_client *client = calloc(1, sizeof *client);
    if (client == NULL) {
        return GPUMUX_ERR_NO_MEMORY;
    }
    /* Replies are at most the handshake's limit until Welcome names the daemon's. */
    client->receive_capacity = FRAME_HEADER_BYTES + 65536;
    client->receive = malloc(client->receive_capacity);
    client->max_payload = HANDSHAKE_PAYLOAD_LIMIT;
    client->fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (client->receive == NULL) {
        error = gpumux__fail(client, GPUMUX_ERR_NO_MEMORY, "out of memory for the receive buffer");
    } else if (client->fd < 0) {
        error = gpumux__fail_errno(client, "socket");
    } else if (connect(client->fd, (const struct sockaddr *)&address, sizeof address) != 0) {
        error = gpumux__fail(client, GPUMUX_ERR_IO, "connect to %s: %s", address.sun_path, strerror(errno));
    } else {
        error = hello(client, client_name);
    }
    if (error != GPUMUX_OK) {
        gpumux__copy_text(connect_message, sizeof connect_message, client->message);
        gpumux_close(client);
        return error;
    }
    *out = client;
    return GPUMUX_OK;
}

const gpumux_welcome *gpumux_welcome_info(const gpumux_client *client)
{
    return &client->welcome;
}

int gpumux_fd(const gpumux_client *client)
{
    return client->fd;
}

void gpumux_close(gpumux_client *client)
{
    if (client == NULL) {
        return;
    }
    gpumux__release_client_regions(client);
    if (client->fd >= 0) {
        close(client->fd);
    }
    free(client->receive);
    free(client->pending_steps);
    free(client->completions.items);
    free(client);
}
