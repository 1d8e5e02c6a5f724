#include "kopro/config.h"

#include "kopro/error.h"
#include "kopro/fs.h"

#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define CONFIG_CAP_BYTES (1024 * 1024)
#define DEFAULT_CONFIG "/etc/kopro/kopro.conf"

struct entry {
    char *key;
    char *value;
};

struct kopro_config {
    struct entry *entries;
    size_t n;
    size_t alloc;
};

static char *trim(char *s)
{
    char *e;
    while (*s == ' ' || *s == '\t')
        s++;
    e = s + strlen(s);
    while (e > s && (e[-1] == ' ' || e[-1] == '\t' || e[-1] == '\r'))
        *--e = '\0';
    return s;
}

static int add_entry(struct kopro_config *c, const char *key, const char *value)
{
    if (c->n == c->alloc) {
        size_t na = c->alloc ? c->alloc * 2 : 16;
        struct entry *p = realloc(c->entries, na * sizeof(*p));
        if (p == NULL)
            return kopro_error_set(KOPRO_ERROR, "out of memory");
        c->entries = p;
        c->alloc = na;
    }
    c->entries[c->n].key = strdup(key);
    c->entries[c->n].value = strdup(value);
    if (c->entries[c->n].key == NULL || c->entries[c->n].value == NULL) {
        free(c->entries[c->n].key);
        free(c->entries[c->n].value);
        return kopro_error_set(KOPRO_ERROR, "out of memory");
    }
    c->n++;
    return 0;
}

static int parse(struct kopro_config *c, char *text, const char *path)
{
    int lineno = 0;
    char *save = NULL;
    for (char *line = strtok_r(text, "\n", &save); line != NULL;
         line = strtok_r(NULL, "\n", &save)) {
        char *eq;
        char *key;
        char *value;
        size_t vl;
        int rc;
        lineno++;
        line = trim(line);
        if (*line == '\0' || *line == '#' || *line == ';')
            continue;
        if (strncmp(line, "export ", 7) == 0)
            line = trim(line + 7);
        eq = strchr(line, '=');
        if (eq == NULL)
            return kopro_error_set(KOPRO_EINVAL,
                                   "%s:%d: expected KEY=VALUE; fix or remove this line", path,
                                   lineno);
        *eq = '\0';
        key = trim(line);
        value = trim(eq + 1);
        if (*key == '\0')
            return kopro_error_set(KOPRO_EINVAL, "%s:%d: empty key before '='", path, lineno);
        vl = strlen(value);
        if (vl >= 2 && ((value[0] == '"' && value[vl - 1] == '"') ||
                        (value[0] == '\'' && value[vl - 1] == '\''))) {
            value[vl - 1] = '\0';
            value++;
        }
        rc = add_entry(c, key, value);
        if (rc != 0)
            return rc;
    }
    return 0;
}

int kopro_config_load(struct kopro_config **out, const char *path)
{
    struct kopro_config *c = NULL;
    char *text = NULL;
    size_t len = 0;
    int rc = 0;
    int explicit_path = path != NULL;

    *out = NULL;
    if (path == NULL) {
        const char *env = getenv("KOPRO_CONFIG");
        if (env != NULL && *env != '\0') {
            path = env;
            explicit_path = 1;
        } else {
            path = DEFAULT_CONFIG;
        }
    }
    c = calloc(1, sizeof(*c));
    if (c == NULL)
        return kopro_error_set(KOPRO_ERROR, "out of memory");
    if (!explicit_path && access(path, F_OK) != 0)
        goto done;
    rc = kopro_fs_read_file(&text, &len, path, CONFIG_CAP_BYTES);
    if (rc != 0) {
        kopro_error_wrap(rc, "configuration file");
        goto done;
    }
    rc = parse(c, text, path);
done:
    if (text != NULL) {
        explicit_bzero(text, len);
        free(text);
    }
    if (rc != 0) {
        kopro_config_free(c);
        return rc;
    }
    *out = c;
    return 0;
}

const char *kopro_config_get(const struct kopro_config *c, const char *key, const char *def)
{
    const char *v = getenv(key);
    if (v != NULL && *v != '\0')
        return v;
    if (c != NULL) {
        /* last assignment wins, as in a shell */
        for (size_t i = c->n; i > 0; i--)
            if (strcmp(c->entries[i - 1].key, key) == 0 && c->entries[i - 1].value[0] != '\0')
                return c->entries[i - 1].value;
    }
    return def;
}

void kopro_config_free(struct kopro_config *c)
{
    if (c == NULL)
        return;
    for (size_t i = 0; i < c->n; i++) {
        explicit_bzero(c->entries[i].value, strlen(c->entries[i].value));
        free(c->entries[i].key);
        free(c->entries[i].value);
    }
    free(c->entries);
    free(c);
}
