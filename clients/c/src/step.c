/* Steps: building their ops, submitting them, and collecting completions (section 4.4). */
#include "internal.h"

#include <stdlib.h>
#include <string.h>

enum { OP_COPY_IN = 1, OP_LAUNCH = 2, OP_COPY_OUT = 3, OP_USE_MODEL = 4, OP_SCHEDULE = 5 };

gpumux_error gpumux_step_create(gpumux_step **out)
{
    if (out == NULL) {
        return GPUMUX_ERR_USAGE;
    }
    *out = calloc(1, sizeof **out);
    return *out != NULL ? GPUMUX_OK : GPUMUX_ERR_NO_MEMORY;
}

void gpumux_step_destroy(gpumux_step *step)
{
    if (step != NULL) {
        gpumux__writer_free(&step->ops);
        free(step);
    }
}

void gpumux_step_clear(gpumux_step *step)
{
    step->ops.length = 0;
    step->ops.failed = false;
    step->op_count = 0;
}

static gpumux_error begin_op(gpumux_step *step, uint8_t kind)
{
    if (step == NULL || step->op_count == UINT16_MAX) {
        return GPUMUX_ERR_USAGE;
    }
    gpumux__writer_u8(&step->ops, kind);
    step->op_count++;
    return GPUMUX_OK;
}

static gpumux_error end_op(const gpumux_step *step)
{
    return step->ops.failed ? GPUMUX_ERR_NO_MEMORY : GPUMUX_OK;
}

gpumux_error gpumux_step_copy_in(gpumux_step *step, const gpumux_region *region, uint64_t region_offset,
                                 gpumux_buffer buffer, uint64_t buffer_offset, uint64_t bytes)
{
    if (region == NULL || begin_op(step, OP_COPY_IN) != GPUMUX_OK) {
        return GPUMUX_ERR_USAGE;
    }
    gpumux__writer_u32(&step->ops, region->handle);
    gpumux__writer_u64(&step->ops, region_offset);
    gpumux__writer_u32(&step->ops, buffer.id);
    gpumux__writer_u64(&step->ops, buffer_offset);
    gpumux__writer_u64(&step->ops, bytes);
    return end_op(step);
}

gpumux_error gpumux_step_copy_out(gpumux_step *step, gpumux_buffer buffer, uint64_t buffer_offset,
                                  const gpumux_region *region, uint64_t region_offset, uint64_t bytes)
{
    if (region == NULL || begin_op(step, OP_COPY_OUT) != GPUMUX_OK) {
        return GPUMUX_ERR_USAGE;
    }
    gpumux__writer_u32(&step->ops, buffer.id);
    gpumux__writer_u64(&step->ops, buffer_offset);
    gpumux__writer_u32(&step->ops, region->handle);
    gpumux__writer_u64(&step->ops, region_offset);
    gpumux__writer_u64(&step->ops, bytes);
    return end_op(step);
}

gpumux_error gpumux_step_launch(gpumux_step *step, gpumux_function function, const uint32_t grid[3],
                                const uint32_t block[3], uint32_t shared_memory_bytes, const gpumux_arg *args,
                                size_t arg_count)
{
    if (grid == NULL || block == NULL || arg_count > UINT8_MAX || (args == NULL && arg_count > 0)) {
        return GPUMUX_ERR_USAGE;
    }
    for (size_t i = 0; i < arg_count; i++) {
        if (args[i].kind < GPUMUX_ARG_BUFFER || args[i].kind > GPUMUX_ARG_TENSOR) {
            return GPUMUX_ERR_USAGE;
        }
    }
    if (begin_op(step, OP_LAUNCH) != GPUMUX_OK) {
        return GPUMUX_ERR_USAGE;
    }
    writer *w = &step->ops;
    gpumux__writer_u32(w, function.id);
    for (int i = 0; i < 3; i++) {
        gpumux__writer_u32(w, grid[i]);
    }
    for (int i = 0; i < 3; i++) {
        gpumux__writer_u32(w, block[i]);
    }
    gpumux__writer_u32(w, shared_memory_bytes);
    gpumux__writer_u8(w, (uint8_t)arg_count);
    for (size_t i = 0; i < arg_count; i++) {
        const gpumux_arg *a = &args[i];
        gpumux__writer_u8(w, (uint8_t)a->kind);
        switch (a->kind) {
        case GPUMUX_ARG_BUFFER:
        case GPUMUX_ARG_TENSOR:
            gpumux__writer_u32(w, a->handle);
            gpumux__writer_u64(w, a->value.offset);
            break;
        case GPUMUX_ARG_I32: gpumux__writer_u32(w, (uint32_t)a->value.i32); break;
        case GPUMUX_ARG_U32: gpumux__writer_u32(w, a->value.u32); break;
        case GPUMUX_ARG_I64: gpumux__writer_u64(w, (uint64_t)a->value.i64); break;
        case GPUMUX_ARG_U64: gpumux__writer_u64(w, a->value.u64); break;
        case GPUMUX_ARG_F32: gpumux__writer_f32(w, a->value.f32); break;
        case GPUMUX_ARG_F64: gpumux__writer_f64(w, a->value.f64); break;
        }
    }
    return end_op(step);
}

gpumux_error gpumux_step_use_model(gpumux_step *step, gpumux_model model)
{
    if (begin_op(step, OP_USE_MODEL) != GPUMUX_OK) {
        return GPUMUX_ERR_USAGE;
    }
    gpumux__writer_u32(&step->ops, model.id);
    return end_op(step);
}

gpumux_error gpumux_step_schedule(gpumux_step *step, int64_t deadline_ns, uint8_t flags)
{
    if (deadline_ns < 0 || (flags & ~(GPUMUX_SCHEDULE_FAIL_IF_LATE | GPUMUX_SCHEDULE_ENDS_REQUEST)) != 0 ||
        begin_op(step, OP_SCHEDULE) != GPUMUX_OK) {
        return GPUMUX_ERR_USAGE;
    }
    gpumux__writer_u64(&step->ops, (uint64_t)deadline_ns);
    gpumux__writer_u8(&step->ops, flags);
    return end_op(step);
}

gpumux_error gpumux_step_submit(gpumux_client *client, const gpumux_step *step, uint32_t *request_id)
{
    if (client == NULL || step == NULL || request_id == NULL) {
        return GPUMUX_ERR_USAGE;
    }
    if (client->pending_count == client->pending_capacity) {
        size_t capacity = client->pending_capacity ? client->pending_capacity * 2 : 16;
        uint32_t *grown = realloc(client->pending_steps, capacity * sizeof *grown);
        if (grown == NULL) {
            return gpumux__fail(client, GPUMUX_ERR_NO_MEMORY, "out of memory tracking steps in flight");
        }
        client->pending_steps = grown;
        client->pending_capacity = capacity;
    }
    writer w = {0};
    gpumux__writer_u16(&w, 0);
    gpumux__writer_u16(&w, step->op_count);
    gpumux__writer_bytes(&w, step->ops.bytes, step->ops.length);
    uint32_t id = gpumux__next_request_id(client);
    gpumux_error error = step->ops.failed ? gpumux__fail(client, GPUMUX_ERR_NO_MEMORY, "the step ran out of memory as it was built")
                                          : gpumux__send_frame(client, MSG_SUBMIT_STEP, id, &w, -1);
    gpumux__writer_free(&w);
    if (error == GPUMUX_OK) {
        client->pending_steps[client->pending_count++] = id;
        *request_id = id;
    }
    return error;
}

/* Takes the queued completion of request_id (any, for 0) into result. */
static bool take_completion(gpumux_client *client, uint32_t request_id, gpumux_step_result *result)
{
    completion_queue *q = &client->completions;
    for (size_t i = 0; i < q->count; i++) {
        if (request_id == 0 || q->items[i].request_id == request_id) {
            *result = q->items[i];
            memmove(&q->items[i], &q->items[i + 1], (q->count - i - 1) * sizeof q->items[0]);
            q->count--;
            return true;
        }
    }
    return false;
}

static gpumux_error step_status(gpumux_client *client, const gpumux_step_result *result)
{
    if (result->status != GPUMUX_OK) {
        gpumux__fail(client, result->status, "%s", result->message);
    }
    return result->status;
}

gpumux_error gpumux_step_wait(gpumux_client *client, uint32_t request_id, gpumux_step_result *result)
{
    if (client == NULL || result == NULL || request_id == 0) {
        return GPUMUX_ERR_USAGE;
    }
    for (;;) {
        if (take_completion(client, request_id, result)) {
            return step_status(client, result);
        }
        bool pending = false;
        for (size_t i = 0; i < client->pending_count; i++) {
            pending |= client->pending_steps[i] == request_id;
        }
        if (!pending) {
            return gpumux__fail(client, GPUMUX_ERR_USAGE, "no step in flight has request id %u", (unsigned)request_id);
        }
        frame f;
        bool was_completion;
        gpumux_error error = gpumux__read_frame(client, true, &f, &was_completion);
        if (error != GPUMUX_OK) {
            return error;
        }
        if (!was_completion) {
            return gpumux__fail(client, GPUMUX_ERR_PROTOCOL, "a frame of type 0x%04x that no request waits for", f.type);
        }
    }
}

gpumux_error gpumux_step_poll(gpumux_client *client, gpumux_step_result *result)
{
    if (client == NULL || result == NULL) {
        return GPUMUX_ERR_USAGE;
    }
    while (client->completions.count == 0) {
        frame f;
        bool was_completion;
        gpumux_error error = gpumux__read_frame(client, false, &f, &was_completion);
        if (error != GPUMUX_OK) {
            return error;
        }
        if (!was_completion) {
            return gpumux__fail(client, GPUMUX_ERR_PROTOCOL, "a frame of type 0x%04x that no request waits for", f.type);
        }
    }
    take_completion(client, 0, result);
    return GPUMUX_OK;
}

gpumux_error gpumux_step_run(gpumux_client *client, const gpumux_step *step, gpumux_step_result *result)
{
    uint32_t id;
    gpumux_error error = gpumux_step_submit(client, step, &id);
    return error != GPUMUX_OK ? error : gpumux_step_wait(client, id, result);
}
