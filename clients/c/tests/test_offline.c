/* What libgpumux does without a daemon: names of codes, step building, a daemon that is not there, SHA-256. */
#include <gpumux.h>

#include "check.h"
#include "sha256.h"

#include <stdint.h>
#include <string.h>

static void codes_are_named_as_the_protocol_names_them(void)
{
    CHECK(strcmp(gpumux_strerror(GPUMUX_OK), "OK") == 0);
    CHECK(strcmp(gpumux_strerror(GPUMUX_MALFORMED_FRAME), "MalformedFrame") == 0);
    CHECK(strcmp(gpumux_strerror(GPUMUX_UNKNOWN_FUNCTION), "UnknownFunction") == 0);
    CHECK(strcmp(gpumux_strerror(GPUMUX_STEP_TIMED_OUT), "StepTimedOut") == 0);
    CHECK(strcmp(gpumux_strerror(GPUMUX_ERR_IO), "ERR_IO") == 0);
    CHECK(strcmp(gpumux_strerror(GPUMUX_ERR_NOT_FOUND), "ERR_NOT_FOUND") == 0);
    /* A code a newer daemon adds is the failure of its request, with a name of its own here. */
    CHECK(strcmp(gpumux_strerror((gpumux_error)29), "unknown") == 0);
    CHECK(strcmp(gpumux_strerror((gpumux_error)-8), "unknown") == 0);
    CHECK(strcmp(gpumux_strerror((gpumux_error)INT32_MIN), "unknown") == 0);
}

static void a_missing_daemon_is_an_io_error_with_the_path(void)
{
    gpumux_client *client = (gpumux_client *)&client;
    EXPECT(GPUMUX_ERR_IO, gpumux_connect("unix:/nonexistent/gpumuxd.sock", "t", &client), (gpumux_client *)NULL);
    CHECK(client == NULL);
    CHECK(strstr(gpumux_connect_message(), "/nonexistent/gpumuxd.sock") != NULL);
    EXPECT(GPUMUX_ERR_USAGE, gpumux_connect("http://host", "t", &client), (gpumux_client *)NULL);
    EXPECT(GPUMUX_ERR_USAGE, gpumux_connect("unix:", "t", &client), (gpumux_client *)NULL);
}

static void steps_refuse_what_the_protocol_cannot_carry(void)
{
    gpumux_step *step;
    EXPECT(GPUMUX_OK, gpumux_step_create(&step), (gpumux_client *)NULL);
    const uint32_t one[3] = {1, 1, 1};
    gpumux_arg args[256];
    for (int i = 0; i < 256; i++) {
        args[i] = gpumux_arg_u32(0);
    }
    gpumux_function f = {1};
    EXPECT(GPUMUX_ERR_USAGE, gpumux_step_launch(step, f, one, one, 0, args, 256), (gpumux_client *)NULL);
    EXPECT(GPUMUX_OK, gpumux_step_launch(step, f, one, one, 0, args, 255), (gpumux_client *)NULL);
    args[0].kind = (gpumux_arg_kind)9;
    EXPECT(GPUMUX_ERR_USAGE, gpumux_step_launch(step, f, one, one, 0, args, 1), (gpumux_client *)NULL);
    EXPECT(GPUMUX_ERR_USAGE, gpumux_step_schedule(step, -1, 0), (gpumux_client *)NULL);
    EXPECT(GPUMUX_ERR_USAGE, gpumux_step_schedule(step, 0, 0x04), (gpumux_client *)NULL);
    EXPECT(GPUMUX_ERR_USAGE, gpumux_step_copy_in(step, NULL, 0, (gpumux_buffer){1}, 0, 4), (gpumux_client *)NULL);
    gpumux_step_destroy(step);
}

static void sha256_matches_the_standard_vectors(void)
{
    char hex[65];
    sha256_hex("", 0, hex);
    CHECK(strcmp(hex, "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855") == 0);
    sha256_hex("abc", 3, hex);
    CHECK(strcmp(hex, "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad") == 0);
    const char *two_blocks = "abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq";
    sha256_hex(two_blocks, strlen(two_blocks), hex);
    CHECK(strcmp(hex, "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1") == 0);
}

int main(void)
{
    codes_are_named_as_the_protocol_names_them();
    a_missing_daemon_is_an_io_error_with_the_path();
    steps_refuse_what_the_protocol_cannot_carry();
    sha256_matches_the_standard_vectors();
    puts("offline ok");
    return 0;
}
