/* SHA-256 (FIPS 180-4), for the tests and the scenario's printed digests; not part of the library. */
#ifndef GPUMUX_TEST_SHA256_H
#define GPUMUX_TEST_SHA256_H

#include <stddef.h>
#include <stdint.h>

/* Writes the digest of `length` bytes as 64 lowercase hex digits and a terminator into hex[65]. */
void sha256_hex(const void *data, size_t length, char hex[65]);

#endif
