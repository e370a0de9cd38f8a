/* The tests' assertions: a failed one prints where and what, and the test exits 1. */
#ifndef GPUMUX_TEST_CHECK_H
#define GPUMUX_TEST_CHECK_H

#include <stdio.h>
#include <stdlib.h>

#define CHECK(condition)                                                                            \
    do {                                                                                            \
        if (!(condition)) {                                                                         \
            fprintf(stderr, "%s:%d: check failed: %s\n", __FILE__, __LINE__, #condition);           \
            exit(1);                                                                                \
        }                                                                                           \
    } while (0)

/* A call that must return `expected`; otherwise prints both codes and the client's message. */
#define EXPECT(expected, call, client)                                                              \
    do {                                                                                            \
        gpumux_error got_ = (call);                                                                 \
        if (got_ != (expected)) {                                                                   \
            fprintf(stderr, "%s:%d: %s gave %s (%d), not %s: %s\n", __FILE__, __LINE__, #call,      \
                    gpumux_strerror(got_), (int)got_, gpumux_strerror(expected),                    \
                    (client) != NULL ? gpumux_last_message(client) : gpumux_connect_message());     \
            exit(1);                                                                                \
        }                                                                                           \
    } while (0)

#endif
