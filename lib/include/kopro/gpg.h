/*
 * kopro/gpg.h — OpenPGP (RFC 4880) streaming encryption and decryption through
 * GPGME, in a private GNUPGHOME.
 *
 * Recipients are named by full 40-hex fingerprints only (a user ID or short key
 * ID could match a key an attacker imported). Keys are checked before any data
 * flows: unknown, expired, revoked, disabled or non-encrypting keys are refused.
 * Trust: the listed fingerprints are trusted as given (GPGME_ENCRYPT_ALWAYS_TRUST
 * applied to exactly those keys); no other key is ever added. No OpenPGP
 * compression (GPGME_ENCRYPT_NO_COMPRESS): kopro compresses before encrypting.
 * Data flows through callbacks (gpgme_data_new_from_cbs), so memory does not
 * grow with the stream.
 * Source: https://www.gnupg.org/documentation/manuals/gpgme/ (Encrypt,
 * Decrypt, Callback Based Data Buffers).
 */
#ifndef KOPRO_GPG_H
#define KOPRO_GPG_H

#include <stddef.h>
#include <sys/types.h>

struct kopro_gpg; /* opaque: one GPGME context and its recipient keys */

/*
 * Pull callback: fill up to len_bytes of buf. Return the byte count, 0 at end
 * of stream, or -1 after kopro_error_set() on failure.
 */
typedef ssize_t (*kopro_gpg_read_fn)(void *arg, void *buf, size_t len_bytes);

/*
 * Push callback: consume all len_bytes of buf. Return 0, or a KOPRO_E* code
 * after kopro_error_set().
 */
typedef int (*kopro_gpg_write_fn)(void *arg, const void *buf, size_t len_bytes);

/*
 * Open a GPGME context on `gnupghome` (NULL: $GNUPGHOME or ~/.gnupg). The
 * directory must exist. Pinentry is in loopback mode without a passphrase, so
 * a protected secret key fails instead of prompting.
 * Returns 0, KOPRO_ENOTFOUND if gnupghome does not exist, or KOPRO_ERROR (no
 * gpg engine). *out is owned by the caller: kopro_gpg_free().
 * Thread-safety: a context is used by one thread at a time.
 */
int kopro_gpg_open(struct kopro_gpg **out, const char *gnupghome);

/*
 * Check and select the recipients: each fprs[i] must be 40 hex digits and name
 * a public key (primary or subkey fingerprint) in the keyring that is not
 * expired, revoked, disabled or invalid and has a usable encryption subkey.
 * Returns 0; KOPRO_EINVAL for a malformed, expired, revoked or unusable key;
 * KOPRO_ENOTFOUND for a fingerprint not in the keyring. The message names the
 * fingerprint. n_fprs must be 1..16.
 */
int kopro_gpg_set_recipients(struct kopro_gpg *g, const char *const *fprs, size_t n_fprs);

/*
 * The selected recipients' primary fingerprints (uppercase hex), index
 * i < count; the strings belong to `g`.
 */
size_t kopro_gpg_recipient_count(const struct kopro_gpg *g);
const char *kopro_gpg_recipient_fpr(const struct kopro_gpg *g, size_t i);

/*
 * Encrypt the stream read by `rd` to the selected recipients, binary (no
 * armor), uncompressed, and push the OpenPGP message to `wr`. Returns 0,
 * the callback's own code if a callback failed, KOPRO_EINVAL if no recipient
 * was set, or KOPRO_ERROR with GPGME's reason.
 */
int kopro_gpg_encrypt(struct kopro_gpg *g, kopro_gpg_read_fn rd, void *rd_arg,
                      kopro_gpg_write_fn wr, void *wr_arg);

/*
 * Decrypt the OpenPGP message read by `rd` with a secret key in the keyring
 * and push the plaintext to `wr`. Integrity protection (MDC) is required.
 * Returns 0, the callback's own code if a callback failed, KOPRO_EAUTH if no
 * secret key matches, or KOPRO_EVERIFY if the message is corrupt or fails
 * its integrity check.
 */
int kopro_gpg_decrypt(struct kopro_gpg *g, kopro_gpg_read_fn rd, void *rd_arg,
                      kopro_gpg_write_fn wr, void *wr_arg);

/* Release; NULL allowed. */
void kopro_gpg_free(struct kopro_gpg *g);

#endif
