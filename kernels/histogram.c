/*
 * histogram.c -- integer histograms of a deterministic pseudo-random stream.
 *
 * Fills (outside the timed region) an array of NVALS 32-bit values with a
 * hand-written xorshift32 generator; each value is the high half of the
 * product of two draws, which skews the distribution toward small values.
 * The timed region builds two histograms of the stream:
 *   - a uniform one with NBINS bins (top bits of the value), and
 *   - a logarithmic one with NEDGES+1 bins whose bin is found by a linear
 *     search over increasing edges with an early exit (break).
 * Counts are integers, so the output is exact.
 *
 * Sizes (NVALS):  MINI (100000)   SMALL (4000000)
 *                 MEDIUM (30000000)   LARGE (150000000; 0.6 GB of input)
 *
 * OpenMP / loop features: kernel in a separate function; one
 * `#pragma omp parallel` region with per-thread private histograms filled by
 * an orphaned `#pragma omp for schedule(static) nowait`, then merged into the
 * shared histograms with `#pragma omp atomic` (integer adds: exact, order-
 * independent).  The innermost bin-search loop has a data-dependent early
 * exit.
 */
#include <stdio.h>
#include <stdlib.h>
#include <stdint.h>
#include <autotune.h>

#if !defined(MINI_DATASET) && !defined(SMALL_DATASET) && \
    !defined(MEDIUM_DATASET) && !defined(LARGE_DATASET)
#define MEDIUM_DATASET
#endif

#if defined(MINI_DATASET)
# ifndef NVALS
#  define NVALS 100000L
# endif
#elif defined(SMALL_DATASET)
# ifndef NVALS
#  define NVALS 4000000L
# endif
#elif defined(MEDIUM_DATASET)
# ifndef NVALS
#  define NVALS 30000000L
# endif
#else /* LARGE_DATASET */
# ifndef NVALS
#  define NVALS 150000000L
# endif
#endif

#define LOG2_NBINS 10
#define NBINS (1 << LOG2_NBINS)
#define NEDGES 24

static uint32_t *data;
static long long hist_u[NBINS];
static long long hist_log[NEDGES + 1];
static uint32_t edges[NEDGES];

static uint32_t xorshift32(uint32_t *s)
{
    uint32_t v = *s;
    v ^= v << 13;
    v ^= v >> 17;
    v ^= v << 5;
    *s = v;
    return v;
}

static void init_data(long n)
{
    uint32_t s = 2463534242u;
    for (long i = 0; i < n; i++) {
        uint64_t a = xorshift32(&s);
        uint64_t b = xorshift32(&s);
        data[i] = (uint32_t)((a * b) >> 32);
    }
    /* edges 2^8, 2^9, ..., 2^31 */
    for (int e = 0; e < NEDGES; e++)
        edges[e] = (uint32_t)1u << (8 + e);
}

static void kernel_histogram(long n, const uint32_t *restrict d,
                             long long *restrict hu, long long *restrict hl)
{
#pragma omp parallel
    {
        long long loc_u[NBINS];
        long long loc_l[NEDGES + 1];
        for (int b = 0; b < NBINS; b++)
            loc_u[b] = 0;
        for (int b = 0; b <= NEDGES; b++)
            loc_l[b] = 0;

#pragma omp for schedule(static) nowait
        for (long i = 0; i < n; i++) {
            uint32_t v = d[i];
            loc_u[v >> (32 - LOG2_NBINS)]++;
            int bin = NEDGES;
            for (int e = 0; e < NEDGES; e++) {
                if (v < edges[e]) {
                    bin = e;
                    break;
                }
            }
            loc_l[bin]++;
        }

        for (int b = 0; b < NBINS; b++) {
            if (loc_u[b] != 0) {
#pragma omp atomic
                hu[b] += loc_u[b];
            }
        }
        for (int b = 0; b <= NEDGES; b++) {
#pragma omp atomic
            hl[b] += loc_l[b];
        }
    }
}

int main(void)
{
    data = malloc(sizeof(uint32_t) * (size_t)NVALS);
    if (!data) {
        fprintf(stderr, "out of memory\n");
        return 1;
    }
    init_data(NVALS);

    AUTOTUNE_REGION_BEGIN(kernel);
    kernel_histogram(NVALS, data, hist_u, hist_log);
    AUTOTUNE_REGION_END(kernel);

    long long total = 0, wsum = 0, sq = 0;
    for (int b = 0; b < NBINS; b++) {
        total += hist_u[b];
        wsum += (long long)(b % 97 + 1) * hist_u[b];
        sq += (hist_u[b] % 100003) * (hist_u[b] % 100003) % 1000003;
    }
    printf("histogram uniform total %lld\n", total);
    printf("histogram uniform wsum %lld\n", wsum);
    printf("histogram uniform sqsum %lld\n", sq);
    printf("histogram uniform bin0 %lld bin1 %lld bin%d %lld\n",
           hist_u[0], hist_u[1], NBINS - 1, hist_u[NBINS - 1]);
    long long ltotal = 0, lwsum = 0;
    for (int b = 0; b <= NEDGES; b++) {
        ltotal += hist_log[b];
        lwsum += (long long)(b + 1) * hist_log[b];
    }
    printf("histogram log total %lld\n", ltotal);
    printf("histogram log wsum %lld\n", lwsum);

    free(data);
    return 0;
}
