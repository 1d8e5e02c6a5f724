/*
 * kopro/gdpr.h — the personal-data register and the GDPR export.
 *
 * The register (lib/gdpr_register.c) is the one place that says, for every
 * column of KoproGo's tables (tests/fixtures/koprogo-schema.sql), what kind of
 * data it holds, on which legal basis it is processed, how long it is kept and
 * what erasure does to it. The export (lib/gdpr_export.c) reads the register
 * to choose the columns it writes; it has no list of its own.
 *
 * Sources: Regulation (EU) 2016/679 (GDPR) art. 6(1), 15, 17, 18, 20;
 * Code de droit économique art. III.86 / III.88 (accounting records kept
 * 7 years); Code civil art. 3.87 §10 (minutes of the general assembly).
 */
#ifndef KOPRO_GDPR_H
#define KOPRO_GDPR_H

#include <stddef.h>
#include <libpq-fe.h>

struct kopro_config;

/* What a column says about a person. NONE: not personal data. */
enum kopro_gdpr_category {
    KOPRO_GDPR_CAT_NONE = 0,
    KOPRO_GDPR_CAT_IDENTITY,  /* names, the person's ids */
    KOPRO_GDPR_CAT_CONTACT,   /* email, phone, postal address */
    KOPRO_GDPR_CAT_OWNERSHIP, /* lots held, shares, dates */
    KOPRO_GDPR_CAT_FINANCIAL, /* charges, contributions, payments */
    KOPRO_GDPR_CAT_VOTING,    /* attendance, proxies, votes */
    KOPRO_GDPR_CAT_TECHNICAL, /* accounts, roles, audit, consents, IPs */
    KOPRO_GDPR_CAT_COUNT
};

/* Legal basis of the processing, GDPR art. 6(1). */
enum kopro_gdpr_basis {
    KOPRO_GDPR_BASIS_NONE = 0,     /* not personal data */
    KOPRO_GDPR_BASIS_CONTRACT,     /* art. 6(1)(b): the syndic mandate, the platform account */
    KOPRO_GDPR_BASIS_LEGAL,        /* art. 6(1)(c): Code civil 3.84–3.100, accounting law */
    KOPRO_GDPR_BASIS_LEGITIMATE,   /* art. 6(1)(f): security, proof */
    KOPRO_GDPR_BASIS_CONSENT,      /* art. 6(1)(a) */
};

/* How long a column is kept. */
enum kopro_gdpr_retention {
    KOPRO_GDPR_RET_NONE = 0,       /* not personal data: kept with the record */
    KOPRO_GDPR_RET_UNTIL_ERASURE,  /* contact and account data: until erasure */
    KOPRO_GDPR_RET_ACCOUNTING,     /* accounting records: N years (default 7), CDE III.86/III.88 */
    KOPRO_GDPR_RET_ASSOCIATION,    /* votes and minutes: as long as the association exists */
    KOPRO_GDPR_RET_AUDIT,          /* audit trail and proof of consent: 7 years (art. 5(2), 7(1)) */
};

/* What erasure (art. 17) does to a column. */
enum kopro_gdpr_action {
    KOPRO_GDPR_ACT_KEEP = 0,        /* not personal data, or a key: unchanged */
    KOPRO_GDPR_ACT_DELETE,          /* the value (or the row) is removed */
    KOPRO_GDPR_ACT_ANONYMIZE,       /* replaced by a stable pseudonym */
    KOPRO_GDPR_ACT_KEEP_RESTRICTED, /* kept until retain_until, processing restricted (art. 18) */
};

/* One column of the register. All strings are static. */
struct kopro_gdpr_column {
    const char *table;  /* KoproGo table in schema public, e.g. "owners" */
    const char *column; /* e.g. "email" */
    enum kopro_gdpr_category category;
    enum kopro_gdpr_basis basis;
    enum kopro_gdpr_retention retention;
    enum kopro_gdpr_action action;
    int exported;       /* 1: part of the art. 15/20 export when the row is the person's */
};

/* What art. 15(1) asks the controller to tell, per category. Static strings. */
struct kopro_gdpr_category_info {
    const char *name;       /* "contact" */
    const char *purposes;   /* English sentence */
    const char *basis;      /* "GDPR art. 6(1)(c): ..." */
    const char *recipients; /* "syndic, accountant, ..." */
    const char *retention;  /* human text, with the source */
};

/*
 * The whole register, sorted by table then column, and its length in
 * *n_out. Static data: never freed; thread-safe.
 */
const struct kopro_gdpr_column *kopro_gdpr_register(size_t *n_out);

/*
 * The register entry of table.column, or NULL when the register does not know
 * it (a column added to KoproGo and not yet classified: treat as an error).
 * Thread-safe.
 */
const struct kopro_gdpr_column *kopro_gdpr_register_find(const char *table, const char *column);

/* Stable lowercase names for JSON and the README ("contact", "art. 6(1)(c)" ...). Static. */
const char *kopro_gdpr_category_name(enum kopro_gdpr_category c);
const char *kopro_gdpr_basis_name(enum kopro_gdpr_basis b);
const char *kopro_gdpr_retention_name(enum kopro_gdpr_retention r);
const char *kopro_gdpr_action_name(enum kopro_gdpr_action a);

/* The art. 15(1) information for category c (never NULL for a valid c). Static; thread-safe. */
const struct kopro_gdpr_category_info *kopro_gdpr_category_describe(enum kopro_gdpr_category c);

/*
 * The accounting retention in years: KOPRO_GDPR_ACCOUNTING_YEARS from `cfg`
 * (environment or config file), default 7 (Code de droit économique art.
 * III.86/III.88; tax and VAT law say 10, which an operator may set).
 * Returns 0 and *years_out, or KOPRO_EINVAL naming the bad value (must be an
 * integer from 1 to 30). `cfg` may be NULL. Thread-safe.
 */
int kopro_gdpr_accounting_years(int *years_out, const struct kopro_config *cfg);

/* One file of an export archive, as listed in manifest.json. */
struct kopro_gdpr_file {
    char name[64];                 /* "votes.json" */
    long rows;                     /* data rows (0 for README.txt) */
    size_t size_bytes;
    char sha256[65];               /* lowercase hex */
};

/* What an export wrote. Caller-owned plain struct (no pointers to free). */
struct kopro_gdpr_export_summary {
    struct kopro_gdpr_file files[48];
    int nfiles;
    char archive_sha256[65];
    size_t archive_bytes;
    long total_rows;
};

/*
 * Export everything the register marks as exported about KoproGo user
 * `user_id` (a uuid) and the owners linked to it (owners.user_id) as a ZIP
 * archive in memory (libarchive; ZIP64 when an entry needs it):
 * manifest.json (format, generated_at, user_id, per file SHA-256, size and
 * row count), README.txt (FR/NL/DE/EN), processing.json (art. 15(1):
 * purposes, basis, recipients, retention per category), one JSON file per
 * category (profile, units, assemblies, votes, charges, contributions,
 * consents, audit, documents) and CSV for units, votes and contributions;
 * documents/ holds the PDFs of the listed documents that are readable on disk.
 * Only the person's buildings' assemblies appear; other owners appear only by
 * name on a lot the person shares (or as grantor/holder of a proxy with the
 * person), never with email or phone. Rows are ordered and JSON keys sorted,
 * entries have a fixed mtime: the same database state and the same
 * `as_of_epoch` give a byte-identical archive.
 *
 * `as_of_epoch` (seconds since 1970, UTC) is the generation time written to
 * manifest.json and to every entry's mtime; audit entries after it are left
 * out (the export is a snapshot as of that instant). Pass time(NULL), or
 * SOURCE_DATE_EPOCH for a reproducible archive.
 *
 * On success *zip_out (caller frees with kopro_gdpr_export_free(), which
 * wipes it: it holds personal data) and *zip_bytes_out are set, and
 * `summary_out` (may be NULL) lists the files.
 * Returns 0; KOPRO_EINVAL if user_id is not a uuid; KOPRO_ENOTFOUND if no
 * such user; KOPRO_EUNAVAIL / KOPRO_ERROR from the database; KOPRO_ETOOBIG if
 * a file exceeds 256 MiB; KOPRO_ERROR if libarchive fails. The database is
 * only read. Not thread-safe on one connection.
 * Source: GDPR art. 15(1), 15(3), 20(1).
 */
int kopro_gdpr_export(struct kopro_gdpr_export_summary *summary_out, unsigned char **zip_out,
                      size_t *zip_bytes_out, PGconn *db, const char *user_id,
                      long long as_of_epoch);

/*
 * Record an export in public.audit_logs (event_type GdprDataExported, as
 * KoproGo does): user_id and resource_id = the person, metadata = {"format",
 * "rows", "files", "sha256" of the archive, "job_id" when `job_id` is not
 * NULL, "via": "job" or "cli"}; no readable personal data. retention_until is
 * now() + 7 years (GDPR art. 5(2) accountability).
 * Returns 0, KOPRO_ENOTFOUND if the user does not exist, or the database
 * error. Not thread-safe on one connection.
 */
int kopro_gdpr_export_audit(PGconn *db, const char *user_id,
                            const struct kopro_gdpr_export_summary *summary, const char *job_id);

/* Wipe and free an archive returned by kopro_gdpr_export(); NULL allowed. */
void kopro_gdpr_export_free(unsigned char *zip, size_t zip_bytes);

/* ------------------------------------------------------------ erasure (art. 17) */

/* What an erasure did (or, with dry_run, would do) to one table. */
struct kopro_gdpr_erase_table {
    char table[48];
    long deleted;    /* rows deleted (action delete on the whole row) */
    long updated;    /* rows whose deleted/anonymized columns were rewritten */
    long restricted; /* rows kept restricted until their retention ends */
    char columns[256]; /* "email=delete phone=delete first_name=anonymize ..." */
};

struct kopro_gdpr_erase_report {
    struct kopro_gdpr_erase_table tables[40];
    int ntables;
    int held;              /* 1: refused by a legal hold, nothing changed */
    char holds[256];       /* reason codes, comma-separated: unpaid_balance, pending_call_for_funds, litigation */
    char hold_detail[512]; /* one line per hold: amount due, hold end */
    char pseudonym[64];    /* the stable pseudonym that replaces the names */
    /* Structured hold facts, for the reply letter (filled when held). */
    long unpaid_count;          /* unpaid contributions */
    char unpaid_amount[32];     /* their total, "371.45" (EUR) */
    long pending_calls;         /* open calls for funds */
    char pending_until[16];     /* latest due date of those, YYYY-MM-DD */
    int litigation;             /* an active kopro.gdpr_legal_holds row */
    char litigation_until[16];  /* YYYY-MM-DD, or "" for further notice */
    char lang[4];               /* "fr", "nl", "de" or "en": the building's convocation language */
    char person_name[160];      /* the user's name, for the letter's address line */
    char tombstone_id[40]; /* kopro.gdpr_tombstones.id (empty on dry run or hold) */
};

/*
 * Erase user `user_id` (users.id) and the owners linked to it, as the
 * register says (GDPR art. 17), in one transaction:
 *   1. legal holds first (art. 17(3)(b), (e)): unpaid contributions
 *      (unpaid_balance), an open call for funds of one of the person's
 *      buildings (pending_call_for_funds), an active row in
 *      kopro.gdpr_legal_holds (litigation). Any hold: nothing changes,
 *      report->held = 1, returns KOPRO_ERETAINED.
 *   2. columns marked delete are removed (NULL, or an empty / placeholder
 *      value where KoproGo declares NOT NULL; rows of tables whose id is
 *      marked delete are deleted); names marked anonymize become the stable
 *      pseudonym "Anonymized owner <10 hex>" (HMAC of the user id under
 *      KOPRO_GDPR_KEY), and free-text columns marked anonymize have the
 *      person's names replaced by it; rows of tables marked keep_restricted
 *      are listed in kopro.gdpr_restricted with retain_until (accounting:
 *      KOPRO_GDPR_ACCOUNTING_YEARS; audit: 7 years; votes: NULL = lifetime
 *      of the association); users/owners get is_anonymized, users
 *      processing_restricted.
 *   3. a tombstone in kopro.gdpr_tombstones holds keyed hashes of the ids.
 * Any failure rolls everything back. With `dry_run` the same statements run
 * and are rolled back, so the report is exactly what would change.
 * `cfg` supplies KOPRO_GDPR_KEY (required, at least 32 characters; the
 * pseudonym and tombstone key) and KOPRO_GDPR_ACCOUNTING_YEARS.
 * `report` is always filled (caller-owned). Requires migration 0100_gdpr.
 * Returns 0; KOPRO_ERETAINED (held); KOPRO_ENOTFOUND (no such user);
 * KOPRO_EINVAL (not a uuid, key missing or short, unknown NOT NULL column
 * type); database errors. Not thread-safe on one connection.
 * Source: GDPR art. 17, 18; Code de droit économique art. III.86/III.88.
 */
int kopro_gdpr_erase(struct kopro_gdpr_erase_report *report, PGconn *db,
                     const struct kopro_config *cfg, const char *user_id, int dry_run);

/*
 * The tombstones erased after `since` (ISO 8601; NULL: all) as a JSON array
 * into *json_out (caller frees): id, erased_at, subject_hash, owner_hashes,
 * pseudonym, counts. Keyed hashes only, no identifier. Take it from the live
 * database before a restore. Returns 0 or a database error.
 */
int kopro_gdpr_tombstones_dump(char **json_out, PGconn *db, const char *since);

/*
 * Re-apply tombstones (the JSON of kopro_gdpr_tombstones_dump()) to a
 * database, e.g. just restored from a backup older than the erasures: the
 * tombstones are inserted (existing ids kept) and every user whose keyed hash
 * matches and who is not yet anonymized is erased again, without hold checks
 * (the erasure was decided), all in ONE transaction: either every tombstone
 * and every re-erasure is applied, or nothing (then both counts are 0).
 * *erased_out counts the persons erased again; *inserted_out (may be NULL)
 * the tombstones that were not yet in the database, i.e. those newer than
 * the backup it was restored from. `cfg` must give the same KOPRO_GDPR_KEY
 * as the erasures. Requires migration 0100_gdpr and KoproGo's public.users.
 * Returns 0; KOPRO_EINVAL (bad JSON, key missing); database errors.
 * Not thread-safe on one connection. Source: GDPR art. 17, 19.
 */
int kopro_gdpr_tombstones_apply(int *erased_out, int *inserted_out, PGconn *db,
                                const struct kopro_config *cfg, const char *tombstones_json);

/*
 * Delete the restricted records whose retention has ended
 * (kopro.gdpr_restricted.retain_until in the past), children first, in one
 * transaction; *purged_out counts the public rows deleted. Rows kept for the
 * association's lifetime (retain_until NULL) are never purged.
 * Returns 0 or a database error (then nothing is deleted).
 * Source: GDPR art. 5(1)(e) storage limitation.
 */
int kopro_gdpr_purge(long *purged_out, PGconn *db);

/*
 * The reply letter to a refused erasure (GDPR art. 12(4), 17(3)): a one-page
 * A4 PDF in report->lang (fr, nl, de, en; anything else: fr) stating each
 * hold's reason, when it ends, that the request will then be executed, and
 * the right to lodge a complaint with the Belgian data protection authority
 * (APD/GBA, art. 77). `date_utc` is the letter's date (from the caller, not
 * the clock: deterministic bytes); `font_dir` as kopro_pdf_options.font_dir.
 * *pdf_out (caller frees with free()) and *pdf_bytes_out on success.
 * Returns 0; KOPRO_EINVAL if the report is not a held one; the errors of
 * kopro_pdf_new() / kopro_pdf_render() (missing fonts: KOPRO_ENOTFOUND).
 */
int kopro_gdpr_hold_letter(unsigned char **pdf_out, size_t *pdf_bytes_out,
                           const struct kopro_gdpr_erase_report *report, const char *font_dir,
                           long long date_utc);

/* ------------------------------------------------------------ encryption at rest (art. 32) */

#define KOPRO_GDPR_SEAL_KEY_BYTES 32
#define KOPRO_GDPR_SEAL_HEADER_BYTES 16
#define KOPRO_GDPR_SEAL_CHUNK_BYTES 65536u
#define KOPRO_GDPR_SEAL_MAX_BYTES (1024ull * 1024 * 1024) /* 1 GiB of archive */

/*
 * Encrypt an export archive for the document store with a 256-bit key used
 * for this archive only. Format ("KOPROGX1"), the STREAM construction of
 * age's payload (C2SP age spec; Hoang et al. 2015) over ChaCha20-Poly1305
 * (RFC 8439, OpenSSL EVP):
 *   header  16 bytes: "KOPROGX1" || chunk size 65536 as uint32 big-endian ||
 *           4 zero bytes
 *   chunks  the plaintext cut into 64 KiB chunks (the last one 1..65536
 *           bytes; one empty chunk for an empty plaintext), each sealed as
 *           ciphertext || 16-byte Poly1305 tag with nonce = chunk counter as
 *           11-byte big-endian || 0x01 on the last chunk, 0x00 otherwise, and
 *           the header as additional data.
 * Reordering, truncation and extension fail authentication. *sealed_out
 * (caller free()s; it holds no plaintext) has kopro_gdpr_sealed_bytes()
 * bytes. Returns 0; KOPRO_ETOOBIG above KOPRO_GDPR_SEAL_MAX_BYTES;
 * KOPRO_ERROR (memory, OpenSSL). Thread-safe.
 */
int kopro_gdpr_seal(unsigned char **sealed_out, size_t *sealed_bytes_out, const unsigned char *plain,
                    size_t plain_bytes, const unsigned char key[KOPRO_GDPR_SEAL_KEY_BYTES]);

/* Size of the sealed form of `plain_bytes` bytes. Thread-safe. */
size_t kopro_gdpr_sealed_bytes(size_t plain_bytes);

/*
 * Decrypt and authenticate a whole sealed archive into memory (at most
 * KOPRO_GDPR_SEAL_MAX_BYTES): no byte is returned unless every chunk, the
 * order and the end verify. *plain_out (personal data: the caller wipes it
 * with explicit_bzero before free()) and *plain_bytes_out on success.
 * Returns 0; KOPRO_EVERIFY (not this format, damaged, truncated, wrong key);
 * KOPRO_ETOOBIG; KOPRO_ERROR. Thread-safe.
 */
int kopro_gdpr_unseal(unsigned char **plain_out, size_t *plain_bytes_out, const unsigned char *sealed,
                      size_t sealed_bytes, const unsigned char key[KOPRO_GDPR_SEAL_KEY_BYTES]);

/*
 * Make a fresh random key (getrandom) for the archive of gdpr.export job
 * `job_id` and store it in kopro.gdpr_export_keys with `expires_at` (ISO
 * 8601); a retry of the same job replaces its key. key_out receives it
 * (caller wipes it). Requires migration 0101_gdpr_export_keys.
 * Returns 0, KOPRO_ERROR (no randomness) or a database error.
 * Not thread-safe on one connection.
 */
int kopro_gdpr_export_key_new(unsigned char key_out[KOPRO_GDPR_SEAL_KEY_BYTES], PGconn *db, const char *job_id,
                              const char *expires_at);

/*
 * The key of job `job_id`'s archive, if it still exists and has not expired.
 * Returns 0; KOPRO_ENOTFOUND (destroyed or expired: the archive is gone for
 * good, answer 410); KOPRO_EINVAL (malformed row); database errors.
 * Not thread-safe on one connection.
 */
int kopro_gdpr_export_key_get(unsigned char key_out[KOPRO_GDPR_SEAL_KEY_BYTES], PGconn *db, const char *job_id);

#endif
