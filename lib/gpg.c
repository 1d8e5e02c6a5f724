#include "kopro/gpg.h"

#include "kopro/error.h"
#include "kopro/valid.h"

#include <errno.h>
#include <gpgme.h>
#include <locale.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#define MAX_RECIPIENTS 16

struct kopro_gpg {
    gpgme_ctx_t ctx;
    gpgme_key_t keys[MAX_RECIPIENTS + 1]; /* NULL-terminated */
    size_t n_keys;
};

/* State shared with the GPGME data callbacks: keeps the callback's own error. */
struct cb_state {
    kopro_gpg_read_fn rd;
    void *rd_arg;
    kopro_gpg_write_fn wr;
    void *wr_arg;
    int rc; /* first callback failure */
    char msg[1024];
};

static pthread_once_t init_once = PTHREAD_ONCE_INIT;
static int init_ok;

static void gpg_init(void)
{
    init_ok = gpgme_check_version(NULL) != NULL &&
              gpgme_engine_check_version(GPGME_PROTOCOL_OpenPGP) == 0;
}

int kopro_gpg_open(struct kopro_gpg **out, const char *gnupghome)
{
    struct kopro_gpg *g = NULL;
    struct stat st;
    gpgme_error_t err;
    int rc = 0;

    *out = NULL;
    pthread_once(&init_once, gpg_init);
    if (!init_ok)
        return kopro_error_set(KOPRO_ERROR, "no usable gpg engine found by GPGME; install gnupg");
    if (gnupghome != NULL && *gnupghome != '\0' && stat(gnupghome, &st) != 0)
        return kopro_error_set(KOPRO_ENOTFOUND,
                               "GnuPG home %s does not exist; set --gnupghome or "
                               "KOPRO_GNUPGHOME to the keyring holding the backup keys",
                               gnupghome);
    g = calloc(1, sizeof(*g));
    if (g == NULL)
        return kopro_error_set(KOPRO_ERROR, "out of memory for a GPGME context");
    err = gpgme_new(&g->ctx);
    if (err != 0) {
        rc = kopro_error_set(KOPRO_ERROR, "GPGME: cannot create a context: %s",
                             gpgme_strerror(err));
        goto done;
    }
    if (gnupghome != NULL && *gnupghome != '\0') {
        err = gpgme_ctx_set_engine_info(g->ctx, GPGME_PROTOCOL_OpenPGP, NULL, gnupghome);
        if (err != 0) {
            rc = kopro_error_set(KOPRO_ERROR, "GPGME: cannot use GnuPG home %s: %s", gnupghome,
                                 gpgme_strerror(err));
            goto done;
        }
    }
    gpgme_set_armor(g->ctx, 0);
    gpgme_set_offline(g->ctx, 1);
    gpgme_set_pinentry_mode(g->ctx, GPGME_PINENTRY_MODE_LOOPBACK);
    *out = g;
    g = NULL;
done:
    kopro_gpg_free(g);
    return rc;
}

static int key_matches(gpgme_key_t key, const char *fpr)
{
    for (gpgme_subkey_t sk = key->subkeys; sk != NULL; sk = sk->next)
        if (sk->fpr != NULL && strcasecmp(sk->fpr, fpr) == 0)
            return 1;
    return 0;
}

static int check_key(gpgme_key_t key, const char *fpr)
{
    int usable = 0;
    if (key->revoked)
        return kopro_error_set(KOPRO_EINVAL,
                               "recipient %s: the key is revoked; give a valid fingerprint", fpr);
    if (key->expired)
        return kopro_error_set(KOPRO_EINVAL,
                               "recipient %s: the key has expired; extend it (gpg "
                               "--quick-set-expire) or give another fingerprint",
                               fpr);
    if (key->disabled || key->invalid)
        return kopro_error_set(KOPRO_EINVAL, "recipient %s: the key is disabled or invalid",
                               fpr);
    for (gpgme_subkey_t sk = key->subkeys; sk != NULL; sk = sk->next)
        if (sk->can_encrypt && !sk->revoked && !sk->expired && !sk->disabled && !sk->invalid)
            usable = 1;
    if (!usable)
        return kopro_error_set(KOPRO_EINVAL,
                               "recipient %s: the key has no usable encryption subkey (all "
                               "expired, revoked or signing-only)",
                               fpr);
    return 0;
}

int kopro_gpg_set_recipients(struct kopro_gpg *g, const char *const *fprs, size_t n_fprs)
{
    gpgme_key_t key = NULL;
    gpgme_error_t err;
    int rc = 0;

    for (size_t i = 0; i < g->n_keys; i++)
        gpgme_key_unref(g->keys[i]);
    memset(g->keys, 0, sizeof(g->keys));
    g->n_keys = 0;
    if (n_fprs == 0)
        return kopro_error_set(KOPRO_EINVAL, "no backup recipient given; pass --recipient "
                                             "FINGERPRINT or set KOPRO_BACKUP_RECIPIENTS");
    if (n_fprs > MAX_RECIPIENTS)
        return kopro_error_set(KOPRO_EINVAL, "%zu recipients is more than the limit of %d",
                               n_fprs, MAX_RECIPIENTS);
    for (size_t i = 0; i < n_fprs; i++) {
        const char *fpr = fprs[i];
        if (fpr == NULL || !kopro_valid_fingerprint(fpr)) {
            rc = kopro_error_set(KOPRO_EINVAL,
                                 "recipient '%s' is not a full 40-hex-digit fingerprint; give "
                                 "the fingerprint printed by gpg --with-colons --fingerprint",
                                 fpr ? fpr : "");
            goto done;
        }
        err = gpgme_get_key(g->ctx, fpr, &key, 0);
        if (gpgme_err_code(err) == GPG_ERR_EOF || (err == 0 && !key_matches(key, fpr))) {
            rc = kopro_error_set(KOPRO_ENOTFOUND,
                                 "recipient %s: no such public key in the backup keyring; "
                                 "import it with gpg --import into KOPRO_GNUPGHOME",
                                 fpr);
            goto done;
        }
        if (err != 0) {
            rc = kopro_error_set(KOPRO_ERROR, "recipient %s: key lookup failed: %s", fpr,
                                 gpgme_strerror(err));
            goto done;
        }
        rc = check_key(key, fpr);
        if (rc != 0)
            goto done;
        g->keys[g->n_keys++] = key;
        key = NULL;
    }
done:
    if (key != NULL)
        gpgme_key_unref(key);
    if (rc != 0) {
        for (size_t i = 0; i < g->n_keys; i++)
            gpgme_key_unref(g->keys[i]);
        memset(g->keys, 0, sizeof(g->keys));
        g->n_keys = 0;
    }
    return rc;
}

size_t kopro_gpg_recipient_count(const struct kopro_gpg *g)
{
    return g->n_keys;
}

const char *kopro_gpg_recipient_fpr(const struct kopro_gpg *g, size_t i)
{
    return i < g->n_keys ? g->keys[i]->fpr : NULL;
}

static void cb_fail(struct cb_state *s, int rc)
{
    if (s->rc == 0) {
        s->rc = rc != 0 ? rc : KOPRO_ERROR;
        snprintf(s->msg, sizeof(s->msg), "%s", kopro_error_last());
    }
}

static ssize_t data_read(void *handle, void *buffer, size_t size)
{
    struct cb_state *s = handle;
    ssize_t n;
    if (s->rc != 0) {
        errno = EIO;
        return -1;
    }
    n = s->rd(s->rd_arg, buffer, size);
    if (n < 0) {
        cb_fail(s, kopro_error_last_code());
        errno = EIO;
        return -1;
    }
    return n;
}

static ssize_t data_write(void *handle, const void *buffer, size_t size)
{
    struct cb_state *s = handle;
    int rc;
    if (s->rc != 0) {
        errno = EIO;
        return -1;
    }
    rc = s->wr(s->wr_arg, buffer, size);
    if (rc != 0) {
        cb_fail(s, rc);
        errno = EIO;
        return -1;
    }
    return (ssize_t)size;
}

static int make_data(gpgme_data_t *in, gpgme_data_t *out, struct gpgme_data_cbs *in_cbs,
                     struct gpgme_data_cbs *out_cbs, struct cb_state *s)
{
    memset(in_cbs, 0, sizeof(*in_cbs));
    memset(out_cbs, 0, sizeof(*out_cbs));
    in_cbs->read = data_read;
    out_cbs->write = data_write;
    *in = NULL;
    *out = NULL;
    if (gpgme_data_new_from_cbs(in, in_cbs, s) != 0 ||
        gpgme_data_new_from_cbs(out, out_cbs, s) != 0) {
        gpgme_data_release(*in);
        *in = NULL;
        return kopro_error_set(KOPRO_ERROR, "GPGME: out of memory for data buffers");
    }
    return 0;
}

int kopro_gpg_encrypt(struct kopro_gpg *g, kopro_gpg_read_fn rd, void *rd_arg,
                      kopro_gpg_write_fn wr, void *wr_arg)
{
    struct cb_state s = {rd, rd_arg, wr, wr_arg, 0, ""};
    struct gpgme_data_cbs in_cbs, out_cbs;
    gpgme_data_t in = NULL, out = NULL;
    gpgme_encrypt_result_t res;
    gpgme_error_t err;
    int rc;

    if (g->n_keys == 0)
        return kopro_error_set(KOPRO_EINVAL, "no recipient selected for encryption");
    rc = make_data(&in, &out, &in_cbs, &out_cbs, &s);
    if (rc != 0)
        return rc;
    err = gpgme_op_encrypt(g->ctx, g->keys,
                           GPGME_ENCRYPT_ALWAYS_TRUST | GPGME_ENCRYPT_NO_COMPRESS |
                               GPGME_ENCRYPT_NO_ENCRYPT_TO,
                           in, out);
    if (s.rc != 0) {
        rc = kopro_error_set(s.rc, "%s", s.msg);
        goto done;
    }
    if (err != 0) {
        res = gpgme_op_encrypt_result(g->ctx);
        if (res != NULL && res->invalid_recipients != NULL)
            rc = kopro_error_set(KOPRO_EINVAL, "gpg refused recipient %s: %s",
                                 res->invalid_recipients->fpr,
                                 gpgme_strerror(res->invalid_recipients->reason));
        else
            rc = kopro_error_set(KOPRO_ERROR, "gpg encryption failed: %s", gpgme_strerror(err));
        goto done;
    }
done:
    gpgme_data_release(in);
    gpgme_data_release(out);
    return rc;
}

int kopro_gpg_decrypt(struct kopro_gpg *g, kopro_gpg_read_fn rd, void *rd_arg,
                      kopro_gpg_write_fn wr, void *wr_arg)
{
    struct cb_state s = {rd, rd_arg, wr, wr_arg, 0, ""};
    struct gpgme_data_cbs in_cbs, out_cbs;
    gpgme_data_t in = NULL, out = NULL;
    gpgme_decrypt_result_t res;
    gpgme_error_t err;
    int rc;

    rc = make_data(&in, &out, &in_cbs, &out_cbs, &s);
    if (rc != 0)
        return rc;
    err = gpgme_op_decrypt(g->ctx, in, out);
    if (s.rc != 0) {
        rc = kopro_error_set(s.rc, "%s", s.msg);
        goto done;
    }
    if (gpgme_err_code(err) == GPG_ERR_NO_SECKEY) {
        rc = kopro_error_set(KOPRO_EAUTH,
                             "no secret key in the keyring can decrypt this backup; import the "
                             "recipient's secret key into KOPRO_GNUPGHOME");
        goto done;
    }
    if (err != 0) {
        rc = kopro_error_set(KOPRO_EVERIFY, "decryption failed (corrupt or tampered data): %s",
                             gpgme_strerror(err));
        goto done;
    }
    res = gpgme_op_decrypt_result(g->ctx);
    if (res != NULL && res->legacy_cipher_nomdc) {
        rc = kopro_error_set(KOPRO_EVERIFY, "the message has no integrity protection (MDC)");
        goto done;
    }
done:
    gpgme_data_release(in);
    gpgme_data_release(out);
    return rc;
}

void kopro_gpg_free(struct kopro_gpg *g)
{
    if (g == NULL)
        return;
    for (size_t i = 0; i < g->n_keys; i++)
        gpgme_key_unref(g->keys[i]);
    if (g->ctx != NULL)
        gpgme_release(g->ctx);
    free(g);
}
