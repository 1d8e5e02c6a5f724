#include "kopro/error.h"

#include <stdio.h>
#include <string.h>

#define MSG_CAP 1024

static _Thread_local char last_msg[MSG_CAP];
static _Thread_local int last_code;

int kopro_error_vset(int code, const char *fmt, va_list ap)
{
    vsnprintf(last_msg, sizeof(last_msg), fmt, ap);
    last_code = code;
    return code;
}

int kopro_error_set(int code, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    kopro_error_vset(code, fmt, ap);
    va_end(ap);
    return code;
}

int kopro_error_wrap(int code, const char *fmt, ...)
{
    char joined[2 * MSG_CAP + 2];
    size_t n;
    va_list ap;

    va_start(ap, fmt);
    vsnprintf(joined, MSG_CAP, fmt, ap);
    va_end(ap);
    n = strlen(joined);
    if (last_msg[0] != '\0') {
        memcpy(joined + n, ": ", 2);
        memcpy(joined + n + 2, last_msg, strlen(last_msg) + 1);
    }
    /* keep the head of the message: the prefix names the input */
    memcpy(last_msg, joined, MSG_CAP - 1);
    last_msg[MSG_CAP - 1] = '\0';
    last_code = code;
    return code;
}

const char *kopro_error_last(void)
{
    return last_msg;
}

int kopro_error_last_code(void)
{
    return last_code;
}

void kopro_error_clear(void)
{
    last_msg[0] = '\0';
    last_code = 0;
}

int kopro_error_exit_code(int code)
{
    switch (code) {
    case KOPRO_OK:
        return 0;
    case KOPRO_EUSAGE:
        return 2;
    case KOPRO_ENOTFOUND:
        return 3;
    case KOPRO_EINVAL:
    case KOPRO_EVERIFY:
        return 4;
    default:
        return 1;
    }
}

const char *kopro_error_name(int code)
{
    switch (code) {
    case KOPRO_OK: return "OK";
    case KOPRO_ENOTFOUND: return "ENOTFOUND";
    case KOPRO_EINVAL: return "EINVAL";
    case KOPRO_EBUSY: return "EBUSY";
    case KOPRO_ETOOBIG: return "ETOOBIG";
    case KOPRO_ERETAINED: return "ERETAINED";
    case KOPRO_EVERIFY: return "EVERIFY";
    case KOPRO_EAUTH: return "EAUTH";
    case KOPRO_ESTALE: return "ESTALE";
    case KOPRO_EUNAVAIL: return "EUNAVAIL";
    case KOPRO_EUSAGE: return "EUSAGE";
    default: return "ERROR";
    }
}
