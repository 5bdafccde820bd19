/*
 * polybench.c -- our own minimal re-creation of the PolyBench/C 4.2.1
 * utility functions (timer, cache flush, aligned allocation), written for
 * the autotune test suite.  Not the PolyBench distribution.
 */
#define _POSIX_C_SOURCE 200112L

#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#include "polybench.h"

static double polybench_t_start;
static double polybench_t_end;

static double rtclock(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + 1.0e-9 * (double)ts.tv_nsec;
}

/* Read a buffer larger than the last-level cache so that the kernel does not
 * start with warm data left behind by the initialisation. */
void polybench_flush_cache(void)
{
    size_t cs = (size_t)POLYBENCH_CACHE_SIZE_KB * 1024 / sizeof(double);
    double *flush = (double *)calloc(cs, sizeof(double));
    double tmp = 0.0;
    if (flush == NULL)
        return;
    for (size_t i = 0; i < cs; i++)
        tmp += flush[i];
    if (tmp > 10.0) /* never true: keeps the loop alive */
        fprintf(stderr, "polybench: unexpected flush sum\n");
    free(flush);
}

void polybench_prepare_instruments(void)
{
#ifndef POLYBENCH_NO_FLUSH_CACHE
    polybench_flush_cache();
#endif
}

void polybench_timer_start(void)
{
    polybench_prepare_instruments();
    polybench_t_start = rtclock();
}

void polybench_timer_stop(void)
{
    polybench_t_end = rtclock();
}

void polybench_timer_print(void)
{
    printf("%0.6f\n", polybench_t_end - polybench_t_start);
}

void *polybench_alloc_data(unsigned long long int n, int elt_size)
{
    size_t bytes = (size_t)n * (size_t)elt_size;
    void *ret = NULL;
    if (bytes == 0)
        bytes = 1;
    if (posix_memalign(&ret, 4096, bytes) != 0 || ret == NULL) {
        fprintf(stderr, "[PolyBench] posix_memalign: cannot allocate memory\n");
        exit(1);
    }
    return ret;
}

void polybench_free_data(void *ptr)
{
    free(ptr);
}
