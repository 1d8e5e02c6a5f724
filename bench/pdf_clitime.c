/*
 * bench/pdf_clitime.c — CPU time (user + system, from wait4's rusage, in
 * microseconds) of a command run RUNS times, each in a fresh process: the
 * median and the minimum. /usr/bin/time reports 10 ms steps, too coarse for
 * a process of ~20 ms. Built and run by bench/pdf.sh.
 * usage: pdf_clitime RUNS COMMAND [ARG...]   (the command's output is discarded)
 * prints: median_us min_us
 */
#define _GNU_SOURCE
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/resource.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <unistd.h>

static int cmp_long(const void *a, const void *b)
{
    long x = *(const long *)a, y = *(const long *)b;
    return (x > y) - (x < y);
}

int main(int argc, char **argv)
{
    int runs;
    long *us;
    if (argc < 3)
        return 2;
    runs = atoi(argv[1]);
    if (runs < 1)
        return 2;
    us = calloc((size_t)runs, sizeof(*us));
    if (us == NULL)
        return 1;
    for (int i = 0; i < runs; i++) {
        struct rusage ru;
        int status;
        pid_t pid = fork();
        if (pid < 0) {
            perror("pdf_clitime: fork");
            return 1;
        }
        if (pid == 0) {
            int fd = open("/dev/null", O_WRONLY);
            if (fd >= 0) {
                dup2(fd, STDOUT_FILENO);
                dup2(fd, STDERR_FILENO);
            }
            execvp(argv[2], argv + 2);
            _exit(127);
        }
        if (wait4(pid, &status, 0, &ru) != pid) {
            perror("pdf_clitime: wait4");
            return 1;
        }
        if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
            fprintf(stderr, "pdf_clitime: %s failed (status %d)\n", argv[2], status);
            return 1;
        }
        us[i] = (ru.ru_utime.tv_sec + ru.ru_stime.tv_sec) * 1000000L + ru.ru_utime.tv_usec +
                ru.ru_stime.tv_usec;
    }
    qsort(us, (size_t)runs, sizeof(*us), cmp_long);
    printf("%ld %ld\n", us[(runs - 1) / 2], us[0]);
    free(us);
    return 0;
}
