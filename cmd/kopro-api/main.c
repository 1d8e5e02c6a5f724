/* kopro-api — the minimal core HTTP API (see kopro/api.h, README.md, openapi.yaml). */
#include "jobs.h"
#include "kopro/api.h"
#include "kopro/config.h"
#include "kopro/error.h"
#include "kopro/jwt.h"

#include <errno.h>
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <systemd/sd-daemon.h>

static void usage(FILE *f)
{
    fputs("usage: kopro-api [--listen HOST:PORT] [--threads N] [--body-limit BYTES]\n"
          "                 [--gdpr-per-hour N] [--config FILE] [--quiet]\n"
          "       kopro-api --kinds | --help | --version\n"
          "\n"
          "Serve kopro's HTTP API: enqueue jobs, follow them, download their results.\n"
          "Authentication: KoproGo's HS256 bearer tokens.\n"
          "\n"
          "  --listen HOST:PORT   address to bind (default $KOPRO_API_LISTEN "
          "or " KOPRO_API_DEFAULT_LISTEN ",\n"
          "                       loopback; TLS is the reverse proxy's job). Port 0 picks a\n"
          "                       free port, printed in the \"listening on\" line.\n"
          "  --threads N          threads that run requests needing the database, each\n"
          "                       with at most one pooled connection; default 8. One more\n"
          "                       connection groups concurrent enqueues in one commit\n"
          "  --body-limit BYTES   largest request body (default 65536; larger gets 413)\n"
          "  --gdpr-per-hour N    GDPR requests allowed per user per hour (default 10)\n"
          "  --config FILE        KEY=VALUE configuration file (default $KOPRO_CONFIG or\n"
          "                       /etc/kopro/kopro.conf if present)\n"
          "  --quiet              no access log (one line per request on stderr otherwise)\n"
          "  --kinds              list the job kinds this server would enqueue, then exit\n"
          "                       (test.* kinds only with KOPRO_ENABLE_TEST_JOBS=1)\n"
          "\n"
          "Configuration: KOPRO_DATABASE_URL (libpq URL), KOPRO_JWT_SECRET (KoproGo's JWT\n"
          "secret, >= 32 bytes) or the systemd credential jwt_secret\n"
          "($CREDENTIALS_DIRECTORY/jwt_secret, preferred), KOPRO_DOCUMENT_STORE (results\n"
          "are streamed only from below it), KOPRO_API_LISTEN.\n"
          "Stops gracefully on SIGTERM or SIGINT (requests in flight finish).\n"
          "\n"
          "Exit codes: 0 stopped cleanly, 2 usage, 3 no JWT secret, 4 invalid\n"
          "configuration, 1 other (e.g. cannot bind).\n",
          f);
}

static void log_line(void *userdata, const char *line)
{
    (void)userdata;
    /* one write per line so concurrent threads do not interleave */
    fprintf(stderr, "kopro-api: %s\n", line);
}

static int parse_uint(unsigned long *out, const char *s, const char *opt, unsigned long max)
{
    char *end = NULL;
    unsigned long v;
    errno = 0;
    v = strtoul(s, &end, 10);
    if (errno != 0 || end == s || *end != '\0' || v == 0 || v > max) {
        fprintf(stderr, "kopro-api: %s \"%s\": give a whole number from 1 to %lu\n", opt, s, max);
        return -1;
    }
    *out = v;
    return 0;
}

int main(int argc, char **argv)
{
    static const struct option longopts[] = {
        {"listen", required_argument, NULL, 'l'},
        {"threads", required_argument, NULL, 't'},
        {"body-limit", required_argument, NULL, 'b'},
        {"gdpr-per-hour", required_argument, NULL, 'g'},
        {"config", required_argument, NULL, 'c'},
        {"quiet", no_argument, NULL, 'q'},
        {"kinds", no_argument, NULL, 'k'},
        {"help", no_argument, NULL, 'h'},
        {"version", no_argument, NULL, 'V'},
        {NULL, 0, NULL, 0},
    };
    struct kopro_api_options opts;
    struct kopro_config *cfg = NULL;
    struct kopro_jwt_key *key = NULL;
    struct kopro_api *api = NULL;
    const char *config_path = NULL;
    sigset_t set;
    unsigned long v;
    int quiet = 0;
    int list_kinds = 0;
    int sig = 0;
    int rc;
    int ch;

    memset(&opts, 0, sizeof(opts));
    while ((ch = getopt_long(argc, argv, "l:t:b:g:c:qkhV", longopts, NULL)) != -1) {
        switch (ch) {
        case 'l':
            opts.listen = optarg;
            break;
        case 't':
            if (parse_uint(&v, optarg, "--threads", 256) != 0)
                return 2;
            opts.threads = (unsigned)v;
            break;
        case 'b':
            if (parse_uint(&v, optarg, "--body-limit", 16UL * 1024 * 1024) != 0)
                return 2;
            opts.body_cap_bytes = v;
            break;
        case 'g':
            if (parse_uint(&v, optarg, "--gdpr-per-hour", 64) != 0)
                return 2;
            opts.gdpr_per_hour = (unsigned)v;
            break;
        case 'c':
            config_path = optarg;
            break;
        case 'q':
            quiet = 1;
            break;
        case 'k':
            list_kinds = 1;
            break;
        case 'h':
            usage(stdout);
            return 0;
        case 'V':
            printf("kopro-api %s\n", KOPRO_VERSION);
            return 0;
        default:
            usage(stderr);
            return 2;
        }
    }
    if (optind != argc) {
        fprintf(stderr, "kopro-api: unexpected argument \"%s\"; see --help\n", argv[optind]);
        return 2;
    }
    opts.log = quiet ? NULL : log_line;

    rc = kopro_config_load(&cfg, config_path);
    if (rc == 0 && list_kinds) {
        /* what this server would enqueue: test.* only with KOPRO_ENABLE_TEST_JOBS=1 */
        int tests = strcmp(kopro_config_get(cfg, "KOPRO_ENABLE_TEST_JOBS", "0"), "1") == 0;
        for (size_t i = 0; kopro_job_kinds[i] != NULL; i++)
            if (tests || strncmp(kopro_job_kinds[i]->name, "test.", 5) != 0)
                printf("%s\t%s\n", kopro_job_kinds[i]->name, kopro_job_kinds[i]->summary);
        goto done;
    }
    if (rc == 0)
        rc = kopro_jwt_key_load(&key, cfg);
    if (rc != 0) {
        fprintf(stderr, "kopro-api: %s\n", kopro_error_last());
        goto done;
    }
    /* the server's threads inherit this mask; the main thread waits for the signals */
    sigemptyset(&set);
    sigaddset(&set, SIGTERM);
    sigaddset(&set, SIGINT);
    pthread_sigmask(SIG_BLOCK, &set, NULL);
    signal(SIGPIPE, SIG_IGN);

    rc = kopro_api_start(&api, cfg, key, &opts);
    if (rc != 0) {
        fprintf(stderr, "kopro-api: %s\n", kopro_error_last());
        goto done;
    }
    {
        const char *l = opts.listen != NULL
                            ? opts.listen
                            : kopro_config_get(cfg, "KOPRO_API_LISTEN", KOPRO_API_DEFAULT_LISTEN);
        const char *colon = strrchr(l, ':');
        fprintf(stderr, "kopro-api: listening on %.*s:%u\n", (int)(colon - l), l,
                kopro_api_port(api));
    }
    sd_notify(0, "READY=1");
    while (sigwait(&set, &sig) != 0)
        ;
    sd_notify(0, "STOPPING=1");
    fprintf(stderr, "kopro-api: signal %d, stopping\n", sig);
    kopro_api_stop(api);
    api = NULL;
done:
    kopro_api_stop(api);
    kopro_jwt_key_free(key);
    kopro_config_free(cfg);
    return kopro_error_exit_code(rc);
}
