/* Names of the codes, and the client's last message. */
#include "internal.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

static const char *const protocol_names[] = {
    "OK", "MalformedFrame", "FrameTooLarge", "UnsupportedVersion", "HandshakeRequired", "UnknownMessage",
    "BadDescriptor", "UnknownHandle", "InvalidArgument", "OutOfMemory", "QuotaExceeded", "CompileFailed",
    "ModuleLoadFailed", "UnknownFunction", "KernelFault", "DeviceReset", "TooManyInFlight", "ShuttingDown",
    "Internal", "ProtocolViolation", "TooManySessions", "InvalidModel", "ModelTooLarge", "UnknownTensor",
    "DeadlineMissed", "LeaseExpired", "DeviceLost", "PermissionDenied", "StepTimedOut",
};

static const char *const local_names[] = {
    "ERR_IO", "ERR_CLOSED", "ERR_USAGE", "ERR_NO_MEMORY", "ERR_PROTOCOL", "ERR_AGAIN", "ERR_NOT_FOUND",
};

const char *gpumux_strerror(gpumux_error code)
{
    int value = (int)code;
    if (value >= 0 && (size_t)value < sizeof protocol_names / sizeof protocol_names[0]) {
        return protocol_names[value];
    }
    if (value < 0 && value >= -(int)(sizeof local_names / sizeof local_names[0])) {
        return local_names[-value - 1];
    }
    return "unknown";
}

gpumux_error gpumux__fail(gpumux_client *client, gpumux_error code, const char *format, ...)
{
    va_list arguments;
    va_start(arguments, format);
    vsnprintf(client->message, sizeof client->message, format, arguments);
    va_end(arguments);
    return code;
}

gpumux_error gpumux__fail_errno(gpumux_client *client, const char *call)
{
    int error = errno;
    return gpumux__fail(client, error == ENOMEM ? GPUMUX_ERR_NO_MEMORY : GPUMUX_ERR_IO, "%s: %s", call, strerror(error));
}

void gpumux__copy_text(char *out, size_t size, const char *text)
{
    size_t length = strlen(text);
    size_t kept = length < size - 1 ? length : size - 1;
    memcpy(out, text, kept);
    out[kept] = '\0';
}

const char *gpumux_last_message(const gpumux_client *client)
{
    return client != NULL ? client->message : "";
}
