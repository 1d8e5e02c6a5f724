/* Detached OpenPGP signatures of produced documents; see kopro/doc.h. */
#include "kopro/doc.h"

#include "kopro/error.h"

#include <ctype.h>
#include <gpgme.h>
#include <stdlib.h>
#include <string.h>

int kopro_doc_sign(char **out_asc, size_t *out_bytes, const void *data, size_t data_bytes,
                   const char *fingerprint, const char *gnupghome)
{
    gpgme_ctx_t ctx = NULL;
    gpgme_key_t key = NULL;
    gpgme_data_t in = NULL, sig = NULL;
    gpgme_error_t err;
    gpgme_sign_result_t res;
    char *mem = NULL;
    size_t len = 0;
    int rc = 0;

    *out_asc = NULL;
    *out_bytes = 0;
    if (fingerprint == NULL || strlen(fingerprint) < 16 || strlen(fingerprint) > 40)
        return kopro_error_set(KOPRO_EINVAL, "signing key '%s' is not a fingerprint; give the 40 "
                                             "hex digits (gpg --list-secret-keys)",
                               fingerprint ? fingerprint : "");
    for (const char *p = fingerprint; *p; p++)
        if (!isxdigit((unsigned char)*p))
            return kopro_error_set(KOPRO_EINVAL, "signing key '%s' is not a hex fingerprint",
                                   fingerprint);
    gpgme_check_version(NULL);
    err = gpgme_new(&ctx);
    if (!err)
        err = gpgme_set_protocol(ctx, GPGME_PROTOCOL_OpenPGP);
    if (!err && gnupghome != NULL && gnupghome[0] != '\0')
        err = gpgme_ctx_set_engine_info(ctx, GPGME_PROTOCOL_OpenPGP, NULL, gnupghome);
    if (err) {
        rc = kopro_error_set(KOPRO_ERROR, "GPGME: %s", gpgme_strerror(err));
        goto done;
    }
    gpgme_set_armor(ctx, 1);
    gpgme_set_pinentry_mode(ctx, GPGME_PINENTRY_MODE_LOOPBACK);
    err = gpgme_get_key(ctx, fingerprint, &key, 1);
    if (err || key == NULL) {
        rc = kopro_error_set(KOPRO_ENOTFOUND, "no secret key %s in %s: %s", fingerprint,
                             gnupghome ? gnupghome : "the default keyring", gpgme_strerror(err));
        goto done;
    }
    err = gpgme_signers_add(ctx, key);
    if (!err)
        err = gpgme_data_new_from_mem(&in, data, data_bytes, 0);
    if (!err)
        err = gpgme_data_new(&sig);
    if (!err)
        err = gpgme_op_sign(ctx, in, sig, GPGME_SIG_MODE_DETACH);
    if (err) {
        rc = kopro_error_set(KOPRO_ERROR, "signing with %s: %s", fingerprint, gpgme_strerror(err));
        goto done;
    }
    res = gpgme_op_sign_result(ctx);
    if (res == NULL || res->signatures == NULL || res->invalid_signers != NULL) {
        rc = kopro_error_set(KOPRO_ERROR, "signing with %s produced no valid signature", fingerprint);
        goto done;
    }
    mem = gpgme_data_release_and_get_mem(sig, &len);
    sig = NULL;
    if (mem == NULL || len == 0) {
        rc = kopro_error_set(KOPRO_ERROR, "signing with %s produced no output", fingerprint);
        goto done;
    }
    *out_asc = malloc(len + 1);
    if (*out_asc == NULL) {
        rc = kopro_error_set(KOPRO_ERROR, "out of memory copying a signature");
        goto done;
    }
    memcpy(*out_asc, mem, len);
    (*out_asc)[len] = '\0';
    *out_bytes = len;
done:
    if (mem != NULL)
        gpgme_free(mem);
    gpgme_data_release(sig);
    gpgme_data_release(in);
    if (key != NULL)
        gpgme_key_unref(key);
    gpgme_release(ctx);
    return rc;
}
