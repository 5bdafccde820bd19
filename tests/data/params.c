/* A program with declared parameters whose values test every status.
 * MODE 0 is correct; 1 prints a wrong checksum; 2 aborts; 3 never finishes;
 * 4 does not compile; 5 allocates 4 GiB (fails under a memory cap). BLOCK changes how the work is blocked, not the result.
 */
#include <stdio.h>
#include <stdlib.h>
#include <autotune.h>

// @autotune param BLOCK 8 16 32
#ifndef BLOCK
#define BLOCK 16
#endif
/* @autotune param MODE = 0, 1, 2, 3, 4, 5 */
#ifndef MODE
#define MODE 0
#endif

#define N 2000
static double x[N];

int main(void)
{
#if MODE == 4
    this does not compile;
#endif
    AUTOTUNE_REGION_BEGIN(kernel);
    for (int r = 0; r < 50; r++) {
#pragma omp parallel for
        for (int ib = 0; ib < N; ib += BLOCK)
            for (int i = ib; i < ib + BLOCK && i < N; i++)
                x[i] += (double)((i % 7) + 1) / (r + 1);
    }
    AUTOTUNE_REGION_END(kernel);
    double s = 0;
    for (int i = 0; i < N; i++)
        s += x[i];
    if (MODE == 1) s *= 1.001;
    if (MODE == 2) abort();
    if (MODE == 3) for (volatile long k = 0;; k++) { }
    if (MODE == 5) {
        size_t n = (size_t)4 << 30;
        char *big = malloc(n);
        if (!big) { fprintf(stderr, "out of memory\n"); return 1; }
        for (size_t i = 0; i < n; i += 4096) big[i] = 1;
        s += big[n - 4096];
        free(big);
    }
    printf("checksum %.12e\n", s);
    return 0;
}
