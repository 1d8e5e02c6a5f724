/*
 * kopro/error.h — error codes and the thread-local last-error message.
 *
 * Convention (after libgit2's docs/error-handling.md): every libkopro function
 * that can fail returns an int, 0 on success, one of the named negative codes
 * below for an expected failure, and KOPRO_ERROR (-1) for anything else. The
 * detail is a one-line message, naming the bad input and what to do, kept per
 * thread and read with kopro_error_last(). The library never prints and never
 * exits.
 */
#ifndef KOPRO_ERROR_H
#define KOPRO_ERROR_H

#include <stdarg.h>

enum kopro_error_code {
    KOPRO_OK = 0,
    KOPRO_ERROR = -1,     /* anything not listed below */
    KOPRO_ENOTFOUND = -2, /* the named row, object or file does not exist */
    KOPRO_EINVAL = -3,    /* bad input or inconsistent data; message names it */
    KOPRO_EBUSY = -4,     /* a lock or lease is held by someone else */
    KOPRO_ETOOBIG = -5,   /* a buffer or input exceeded its cap */
    KOPRO_ERETAINED = -6, /* kept by a retention rule or a legal hold */
    KOPRO_EVERIFY = -7,   /* an integrity check (hash, signature, count) failed */
    KOPRO_EAUTH = -8,     /* authentication or authorisation refused */
    KOPRO_ESTALE = -9,    /* a fencing token or lease no longer matches */
    KOPRO_EUNAVAIL = -10, /* a server (database, S3) could not be reached */
    KOPRO_EUSAGE = -11,   /* command-line usage error (CLIs only) */
};

/*
 * Set the calling thread's last error and return `code`, so that callers can
 * write `return kopro_error_set(KOPRO_EINVAL, "...", ...);`.
 *
 * code: one of enum kopro_error_code (negative).
 * fmt:  printf format of a one-line message; it is truncated at 1023 bytes.
 * Returns: code, unchanged.
 * Thread-safety: the message is thread-local.
 */
int kopro_error_set(int code, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

/* Same as kopro_error_set() with a va_list. */
int kopro_error_vset(int code, const char *fmt, va_list ap)
    __attribute__((format(printf, 2, 0)));

/*
 * Prefix the current message with "prefix: " (e.g. the name of the file being
 * processed) and return `code`. If no message is set, `prefix` becomes it.
 */
int kopro_error_wrap(int code, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

/*
 * The calling thread's last error message, or "" if none was set.
 * Ownership: the string belongs to libkopro and stays valid until the next
 * kopro_error_* call on this thread. Thread-safety: thread-local.
 */
const char *kopro_error_last(void);

/* The code given to the last kopro_error_set() on this thread, or 0. */
int kopro_error_last_code(void);

/* Forget the calling thread's last error. */
void kopro_error_clear(void);

/*
 * Map a libkopro return code to the CLI exit codes documented in README.md:
 * 0 ok, 2 usage, 3 not found, 4 invalid data or failed verification, 1 other.
 */
int kopro_error_exit_code(int code);

/* A short stable name for a code ("ENOTFOUND", ...), for logs and JSON. */
const char *kopro_error_name(int code);

#endif
