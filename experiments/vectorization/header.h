/* header.h: our stand-in for the NeuroVectorizer loops' own header.h.
 *
 * Why: the loop programs of the NeuroVectorizer data set (../shared/data/vectorization)
 * include "header.h" and time their loop with a BENCH macro that prints elapsed
 * milliseconds and nothing else, so two correct variants print different text and
 * autotune cannot verify them. experiments/vectorization.py puts this folder first
 * on the include path (the loop files are compiled from a folder without their
 * header), which makes the unmodified programs satisfy our kernel contract
 * (DESIGN.md section 2):
 *   - the repeated calls are timed by autotune.h's region timer (stderr);
 *   - stdout carries the digest the program computes, which verification compares;
 *   - the repetition count is divided by NV_ITER_DIV (a -D define, default 1), so
 *     one run takes tens of milliseconds instead of the original ~0.4 s.
 * The data set's header.c is linked unchanged (it is compiled against its own
 * header.h, whose declarations this file repeats).
 */
#ifndef NV_AUTOTUNE_HEADER_H
#define NV_AUTOTUNE_HEADER_H

#include <stdbool.h>
#include <stdio.h>
#include <time.h>
#include <autotune.h>

#ifndef NV_ITER_DIV
#define NV_ITER_DIV 1
#endif

#define ALIGNED16 __attribute__((aligned(16)))
#define Mi 1048576 /* 1 << 20 */

void init_memory(void *start, void *end);
void init_memory_float(float *start, float *end);
unsigned digest_memory(void *start, void *end);
void atimer(const char *title, bool print);

/* One untimed call (warm-up), then ceil(ITER / NV_ITER_DIV) timed calls, then the digest. */
#define BENCH(NAME, RUN_LINE, ITER, DIGEST_LINE)                               \
    {                                                                          \
        long nv_iters_ = ((long)(ITER) + NV_ITER_DIV - 1) / NV_ITER_DIV;       \
        if (nv_iters_ < 1)                                                     \
            nv_iters_ = 1;                                                     \
        RUN_LINE;                                                              \
        AUTOTUNE_REGION_BEGIN(nv_loop);                                        \
        for (long nv_i_ = 0; nv_i_ < nv_iters_; ++nv_i_)                       \
            RUN_LINE;                                                          \
        AUTOTUNE_REGION_END(nv_loop);                                          \
        unsigned nv_digest_ = (DIGEST_LINE);                                   \
        printf("%s: %ld calls, digest %u\n", NAME, nv_iters_, nv_digest_);     \
    }

#endif /* NV_AUTOTUNE_HEADER_H */
