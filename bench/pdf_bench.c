/*
 * bench/pdf_bench.c — CPU time of kopro_doc_minutes() per document, in one
 * process (no exec, no dynamic linking, the JSON model parsed once), so the
 * figure is the library's cost. Built and run by bench/pdf.sh.
 * usage: pdf_bench MODEL.json RUNS
 * prints: median_us min_us bytes pages
 */
#include "kopro/assembly.h"
#include "kopro/doc.h"
#include "kopro/error.h"

#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

static int cmp_long(const void *a, const void *b)
{
    long x = *(const long *)a, y = *(const long *)b;
    return (x > y) - (x < y);
}

int main(int argc, char **argv)
{
    json_error_t jerr;
    json_t *doc;
    struct kopro_assembly *a = NULL;
    struct kopro_doc_options o = {"fr", 1, NULL, NULL, 0};
    long *us;
    int runs;
    size_t bytes = 0;
    int pages = 0;

    if (argc != 3)
        return 2;
    runs = atoi(argv[2]);
    if (runs < 1)
        return 2;
    doc = json_load_file(argv[1], 0, &jerr);
    if (doc == NULL || kopro_assembly_load_json(&a, doc) != 0) {
        fprintf(stderr, "pdf_bench: %s\n", doc == NULL ? jerr.text : kopro_error_last());
        return 1;
    }
    us = calloc((size_t)runs, sizeof(*us));
    if (us == NULL)
        return 1;
    for (int i = 0; i < runs; i++) {
        struct kopro_doc_output out;
        struct timespec t0, t1;
        clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &t0);
        if (kopro_doc_minutes(&out, a, &o) != 0) {
            fprintf(stderr, "pdf_bench: %s\n", kopro_error_last());
            return 1;
        }
        clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &t1);
        us[i] = (t1.tv_sec - t0.tv_sec) * 1000000L + (t1.tv_nsec - t0.tv_nsec) / 1000L;
        bytes = out.pdf_bytes;
        pages = out.pages;
        kopro_doc_output_free(&out);
    }
    qsort(us, (size_t)runs, sizeof(*us), cmp_long);
    printf("%ld %ld %zu %d\n", us[(runs - 1) / 2], us[0], bytes, pages);
    free(us);
    kopro_assembly_free(a);
    json_decref(doc);
    return 0;
}
