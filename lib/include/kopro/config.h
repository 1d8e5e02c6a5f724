/*
 * kopro/config.h — configuration from the environment and an optional file.
 *
 * The file is a list of KEY=VALUE lines in the format of systemd's
 * EnvironmentFile= ('#' comments, optional double quotes), so the same file
 * serves a unit and a shell. Lookup order: the process environment, then the
 * file, then the caller's default. The file is $KOPRO_CONFIG if set, else
 * /etc/kopro/kopro.conf if it exists. Keys are the environment names
 * documented in README.md (KOPRO_DATABASE_URL, KOPRO_BACKUP_REPO, ...).
 */
#ifndef KOPRO_CONFIG_H
#define KOPRO_CONFIG_H

struct kopro_config; /* opaque */

/*
 * Load the configuration. `path` names the file; NULL means the default
 * described above (a missing default file is not an error; a missing named
 * file is KOPRO_ENOTFOUND). A malformed line is KOPRO_EINVAL naming the file
 * and line number. *out is owned by the caller: kopro_config_free().
 * Values are wiped on free, since the file may hold secrets.
 */
int kopro_config_load(struct kopro_config **out, const char *path);

/*
 * The value of `key`, or `def` if unset or empty. The returned string belongs
 * to the environment or to `c` and stays valid until kopro_config_free().
 * `c` may be NULL (environment only).
 */
const char *kopro_config_get(const struct kopro_config *c, const char *key, const char *def);

/* Release; NULL allowed. */
void kopro_config_free(struct kopro_config *c);

#endif
