/*
 * kopro/valid.h — syntax checks of the identifiers and dates that job
 * payloads, CLI arguments and library calls carry (KoproGo ids are uuids,
 * periods are calendar dates). They only look at the text: whether the row
 * exists is the database's answer, whether the date is in the calendar
 * (30 February) is PostgreSQL's or the caller's.
 */
#ifndef KOPRO_VALID_H
#define KOPRO_VALID_H

/*
 * 1 if `s` is a uuid in its textual form 8-4-4-4-12 hexadecimal digits
 * (either case, 36 characters, no braces or "urn:uuid:" prefix), else 0;
 * NULL gives 0. No version or variant check: KoproGo's ids are random
 * (version 4) uuids, but PostgreSQL's uuid type accepts any.
 *
 * s: NUL-terminated text, borrowed. Errors: none (no message is set).
 * Thread-safety: reentrant. Source: RFC 9562 §4 (the uuid string
 * representation), PostgreSQL docs §8.12 "UUID Type".
 */
int kopro_valid_uuid(const char *s);

/*
 * 1 if `s` is a date "YYYY-MM-DD" (10 characters, month 1..12, day 1..31),
 * else 0; NULL gives 0. The day is not checked against the month's length.
 *
 * s: NUL-terminated text, borrowed. Errors: none (no message is set).
 * Thread-safety: reentrant. Source: ISO 8601-1:2019 §5.2.2.1 (calendar date,
 * extended format), as in RFC 3339 §5.6 full-date.
 */
int kopro_valid_date(const char *s);

/*
 * 1 if `s` is a full OpenPGP v4 fingerprint: exactly 40 hexadecimal digits
 * (either case, no spaces, no "0x"), else 0; NULL gives 0. Backups are
 * encrypted only to keys named this way, never by user ID or short key ID.
 *
 * s: NUL-terminated text, borrowed. Errors: none (no message is set).
 * Thread-safety: reentrant. Source: RFC 4880 §12.2 (v4 fingerprint, 160 bits).
 */
int kopro_valid_fingerprint(const char *s);

#endif
