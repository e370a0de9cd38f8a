/* Leases, the status report and the tenant's quota (sections 4.6 to 4.8). */
#include "internal.h"

#include <string.h>
#include <unistd.h>

static const writer no_payload = {0};

static void read_lease(reader *r, gpumux_lease *lease)
{
    lease->id = gpumux__reader_u32(r);
    gpumux__reader_string(r, lease->class_name, sizeof lease->class_name);
    lease->gpu_ns_used = gpumux__reader_u64(r);
    lease->max_gpu_ns = gpumux__reader_u64(r);
    lease->acquired_at_unix_ms = (int64_t)gpumux__reader_u64(r);
    lease->expires_at_unix_ms = (int64_t)gpumux__reader_u64(r);
    lease->device_bytes = gpumux__reader_u64(r);
    lease->max_device_bytes = gpumux__reader_u64(r);
    lease->expired = gpumux__reader_u8(r) != 0;
}

gpumux_error gpumux_lease_acquire(gpumux_client *client, const char *class_name, uint64_t max_gpu_ms,
                                  uint64_t max_duration_ms, uint64_t max_device_bytes, gpumux_lease *out)
{
    if (client == NULL) {
        return GPUMUX_ERR_USAGE;
    }
    writer w = {0};
    gpumux__writer_string(&w, class_name != NULL ? class_name : "");
    gpumux__writer_u64(&w, max_gpu_ms);
    gpumux__writer_u64(&w, max_duration_ms);
    gpumux__writer_u64(&w, max_device_bytes);
    frame reply;
    gpumux_error error = gpumux__call(client, MSG_ACQUIRE_LEASE, &w, -1, MSG_ACQUIRE_LEASE | MSG_REPLY_BIT, &reply);
    gpumux__writer_free(&w);
    if (error != GPUMUX_OK) {
        return error;
    }
    gpumux_lease lease;
    read_lease(&reply.payload, &lease);
    if (out != NULL) {
        *out = lease;
    }
    return gpumux__decode_ended(client, &reply.payload, "LeaseGranted");
}

gpumux_error gpumux_lease_get(gpumux_client *client, bool *has_lease, gpumux_lease *out)
{
    if (client == NULL || has_lease == NULL || out == NULL) {
        return GPUMUX_ERR_USAGE;
    }
    frame reply;
    gpumux_error error = gpumux__call(client, MSG_GET_LEASE, &no_payload, -1, MSG_GET_LEASE | MSG_REPLY_BIT, &reply);
    if (error != GPUMUX_OK) {
        return error;
    }
    /* The lease's fields follow even when there is none, zeroed. */
    *has_lease = gpumux__reader_u8(&reply.payload) != 0;
    read_lease(&reply.payload, out);
    return gpumux__decode_ended(client, &reply.payload, "LeaseReport");
}

gpumux_error gpumux_lease_release(gpumux_client *client)
{
    frame reply;
    return client != NULL ? gpumux__call(client, MSG_RELEASE_LEASE, &no_payload, -1, MSG_OK, &reply) : GPUMUX_ERR_USAGE;
}

gpumux_error gpumux_status_get(gpumux_client *client, gpumux_status *out)
{
    if (client == NULL || out == NULL) {
        return GPUMUX_ERR_USAGE;
    }
    frame reply;
    gpumux_error error = gpumux__call(client, MSG_GET_STATUS, &no_payload, -1, MSG_GET_STATUS | MSG_REPLY_BIT, &reply);
    if (error != GPUMUX_OK) {
        return error;
    }
    /* The fixed head of StatusReport; the session entries and later parts are for operators' tools. */
    reader *r = &reply.payload;
    char text[256];
    memset(out, 0, sizeof *out);
    out->backend = gpumux__reader_u8(r);
    gpumux__reader_string(r, text, sizeof text);
    gpumux__reader_u16(r);
    gpumux__reader_string(r, out->device_name, sizeof out->device_name);
    gpumux__reader_u64(r);
    gpumux__reader_u8(r);
    gpumux__reader_u8(r);
    gpumux__reader_u16(r);
    gpumux__reader_string(r, text, sizeof text);
    out->free_bytes = gpumux__reader_u64(r);
    out->total_bytes = gpumux__reader_u64(r);
    out->session_bytes = gpumux__reader_u64(r);
    out->uptime_ms = (int64_t)gpumux__reader_u64(r);
    out->sessions_total = gpumux__reader_u32(r);
    return r->failed ? gpumux__fail(client, GPUMUX_ERR_PROTOCOL, "the daemon's StatusReport does not decode") : GPUMUX_OK;
}

gpumux_error gpumux_quota_get(gpumux_client *client, gpumux_quota *out)
{
    if (client == NULL || out == NULL) {
        return GPUMUX_ERR_USAGE;
    }
    frame reply;
    gpumux_error error = gpumux__call(client, MSG_GET_TENANTS, &no_payload, -1, MSG_GET_TENANTS | MSG_REPLY_BIT, &reply);
    if (error != GPUMUX_OK) {
        return error;
    }
    reader *r = &reply.payload;
    uint32_t uid = (uint32_t)geteuid();
    bool found = false;
    gpumux__reader_u32(r);
    uint16_t count = gpumux__reader_u16(r);
    for (uint16_t i = 0; i < count && !r->failed; i++) {
        gpumux_quota entry = {0};
        entry.uid = gpumux__reader_u32(r);
        entry.weight = gpumux__reader_f64(r);
        entry.sessions = gpumux__reader_u32(r);
        entry.device_bytes = gpumux__reader_u64(r);
        entry.max_device_bytes = gpumux__reader_u64(r);
        entry.leases = gpumux__reader_u32(r);
        entry.max_leases = gpumux__reader_u32(r);
        entry.gpu_seconds_today = gpumux__reader_f64(r);
        entry.gpu_seconds_per_day = gpumux__reader_f64(r);
        entry.resets_at_unix_ms = (int64_t)gpumux__reader_u64(r);
        gpumux__reader_string(r, entry.highest_class, sizeof entry.highest_class);
        /* The accounting that follows each entry came in 1.3. */
        if (client->welcome.minor >= 3) {
            entry.gpu_seconds = gpumux__reader_f64(r);
            entry.steps = gpumux__reader_u64(r);
            entry.swaps = gpumux__reader_u64(r);
            entry.bytes_moved = gpumux__reader_u64(r);
            entry.queue_p50_ms = gpumux__reader_f64(r);
            entry.queue_p99_ms = gpumux__reader_f64(r);
        }
        if (entry.uid == uid && !found) {
            *out = entry;
            found = true;
        }
    }
    if (r->failed) {
        return gpumux__fail(client, GPUMUX_ERR_PROTOCOL, "the daemon's TenantReport does not decode");
    }
    return found ? GPUMUX_OK : gpumux__fail(client, GPUMUX_ERR_NOT_FOUND, "the daemon's TenantReport has no entry for uid %u", (unsigned)uid);
}
