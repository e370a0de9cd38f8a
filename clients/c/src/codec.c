/* Little-endian payload encoding and decoding (docs/protocol.md section 2, field types). */
#include "internal.h"

#include <stdlib.h>
#include <string.h>

static uint8_t *reserve(writer *w, size_t n)
{
    if (w->failed) {
        return NULL;
    }
    if (w->length + n > w->capacity) {
        size_t capacity = w->capacity ? w->capacity : 64;
        while (capacity < w->length + n) {
            capacity *= 2;
        }
        uint8_t *grown = realloc(w->bytes, capacity);
        if (grown == NULL) {
            w->failed = true;
            return NULL;
        }
        w->bytes = grown;
        w->capacity = capacity;
    }
    uint8_t *at = w->bytes + w->length;
    w->length += n;
    return at;
}

static void put_le(writer *w, uint64_t v, size_t n)
{
    uint8_t *at = reserve(w, n);
    if (at != NULL) {
        for (size_t i = 0; i < n; i++) {
            at[i] = (uint8_t)(v >> (8 * i));
        }
    }
}

void gpumux__writer_u8(writer *w, uint8_t v) { put_le(w, v, 1); }
void gpumux__writer_u16(writer *w, uint16_t v) { put_le(w, v, 2); }
void gpumux__writer_u32(writer *w, uint32_t v) { put_le(w, v, 4); }
void gpumux__writer_u64(writer *w, uint64_t v) { put_le(w, v, 8); }

void gpumux__writer_f32(writer *w, float v)
{
    uint32_t bits;
    memcpy(&bits, &v, sizeof bits);
    gpumux__writer_u32(w, bits);
}

void gpumux__writer_f64(writer *w, double v)
{
    uint64_t bits;
    memcpy(&bits, &v, sizeof bits);
    gpumux__writer_u64(w, bits);
}

void gpumux__writer_bytes(writer *w, const void *bytes, size_t length)
{
    uint8_t *at = reserve(w, length);
    if (at != NULL && length > 0) {
        memcpy(at, bytes, length);
    }
}

void gpumux__writer_string(writer *w, const char *s)
{
    size_t length = s != NULL ? strlen(s) : 0;
    if (length > UINT16_MAX) {
        w->failed = true;
        return;
    }
    gpumux__writer_u16(w, (uint16_t)length);
    gpumux__writer_bytes(w, s, length);
}

void gpumux__writer_free(writer *w)
{
    free(w->bytes);
    *w = (writer){0};
}

static uint64_t get_le(reader *r, size_t n)
{
    if (r->failed || r->length - r->position < n) {
        r->failed = true;
        return 0;
    }
    uint64_t v = 0;
    for (size_t i = 0; i < n; i++) {
        v |= (uint64_t)r->bytes[r->position + i] << (8 * i);
    }
    r->position += n;
    return v;
}

uint8_t gpumux__reader_u8(reader *r) { return (uint8_t)get_le(r, 1); }
uint16_t gpumux__reader_u16(reader *r) { return (uint16_t)get_le(r, 2); }
uint32_t gpumux__reader_u32(reader *r) { return (uint32_t)get_le(r, 4); }
uint64_t gpumux__reader_u64(reader *r) { return get_le(r, 8); }

double gpumux__reader_f64(reader *r)
{
    uint64_t bits = gpumux__reader_u64(r);
    double v;
    memcpy(&v, &bits, sizeof v);
    return v;
}

void gpumux__reader_string(reader *r, char *out, size_t size)
{
    size_t length = gpumux__reader_u16(r);
    if (r->failed || r->length - r->position < length) {
        r->failed = true;
        length = 0;
    }
    size_t kept = length < size - 1 ? length : size - 1;
    if (kept > 0) {
        memcpy(out, r->bytes + r->position, kept);
    }
    out[kept] = '\0';
    r->position += length;
}

bool gpumux__reader_at_end(const reader *r)
{
    return !r->failed && r->position == r->length;
}
