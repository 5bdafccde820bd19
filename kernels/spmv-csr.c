/*
 * spmv-csr.c -- repeated sparse matrix-vector product, CSR format.
 *
 * Builds (outside the timed region) a deterministic N x N sparse matrix whose
 * row lengths follow a skewed, irregular distribution: most rows hold a few
 * entries, a few rows hold hundreds, and rows in "hub" blocks near the start
 * of the matrix are six times longer still, so that contiguous static chunks
 * of rows carry very different amounts of work (with two threads and a
 * static schedule the first thread gets about 2.2x the nonzeros of the
 * second).  Row lengths are drawn from a cumulative table by a serial linear
 * search with early exit (break).  Column indices mix near-diagonal and
 * scattered positions.  The timed region runs REPS power-iteration steps
 *   y = A x;  x = scale * y
 * where scale ~ 1/spectral radius is estimated serially at build time, so no
 * reduction is needed inside the region and x stays of order one.
 *
 * Sizes (N rows, REPS):  MINI (2000, 5)   SMALL (40000, 20)
 *                        MEDIUM (200000, 40)   LARGE (1000000, 20)
 * (average about 29 nonzeros per row; LARGE uses about 0.4 GB)
 *
 * OpenMP / loop features: kernel in a separate function; the SpMV row loop
 * is `#pragma omp parallel for schedule(dynamic, 64)` with an inner loop
 * whose bounds come from the row pointer array (data-dependent trip count,
 * indirect access x[col[k]]); the vector update is a plain
 * `#pragma omp parallel for`.  Each y[i] is summed by one thread in CSR order,
 * so the output does not depend on the thread count or the schedule.
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
# ifndef N
#  define N 2000
# endif
# ifndef REPS
#  define REPS 5
# endif
#elif defined(SMALL_DATASET)
# ifndef N
#  define N 40000
# endif
# ifndef REPS
#  define REPS 20
# endif
#elif defined(MEDIUM_DATASET)
# ifndef N
#  define N 200000
# endif
# ifndef REPS
#  define REPS 40
# endif
#else /* LARGE_DATASET */
# ifndef N
#  define N 1000000
# endif
# ifndef REPS
#  define REPS 20
# endif
#endif

/* hand-written xorshift64* generator (deterministic, no rand()) */
static uint64_t rng_state = 0x9E3779B97F4A7C15ull;

static uint64_t rng_next(void)
{
    uint64_t x = rng_state;
    x ^= x >> 12;
    x ^= x << 25;
    x ^= x >> 27;
    rng_state = x;
    return x * 0x2545F4914F6CDD1Dull;
}

/* row-length table: cumulative probability (per 1024) -> length */
#define NCLASSES 7
static const int class_cum[NCLASSES] = {420, 700, 870, 960, 1000, 1018, 1024};
static const int class_len[NCLASSES] = {3, 6, 12, 24, 64, 256, 700};

static int *rowptr;   /* N + 1 */
static int *colidx;   /* nnz */
static double *val;   /* nnz */
static double *x;     /* N */
static double *y;     /* N */
static double scale;  /* about 1 / spectral radius */

static int draw_row_length(long i)
{
    int r = (int)(rng_next() >> 54); /* 0 .. 1023 */
    int len = class_len[NCLASSES - 1];
    for (int c = 0; c < NCLASSES; c++) {
        if (r < class_cum[c]) {
            len = class_len[c];
            break;
        }
    }
    /* "hub" rows: 8 of the first 12 blocks of N/64 rows are 6x denser, so
       the first fifth of the rows carries about half of the nonzeros */
    long block = i / (N / 64 > 0 ? N / 64 : 1);
    if (block < 12 && block % 3 != 1)
        len *= 6;
    if (len > N)
        len = N;
    return len;
}

static void build_matrix(void)
{
    int *len = malloc(sizeof(int) * (size_t)N);
    rowptr = malloc(sizeof(int) * ((size_t)N + 1));
    if (!len || !rowptr) {
        fprintf(stderr, "out of memory\n");
        exit(1);
    }
    long nnz = 0;
    for (long i = 0; i < N; i++) {
        len[i] = draw_row_length(i);
        nnz += len[i];
    }
    colidx = malloc(sizeof(int) * (size_t)nnz);
    val = malloc(sizeof(double) * (size_t)nnz);
    x = malloc(sizeof(double) * (size_t)N);
    y = malloc(sizeof(double) * (size_t)N);
    if (!colidx || !val || !x || !y) {
        fprintf(stderr, "out of memory\n");
        exit(1);
    }
    long k = 0;
    for (long i = 0; i < N; i++) {
        rowptr[i] = (int)k;
        for (int e = 0; e < len[i]; e++) {
            uint64_t r = rng_next();
            long c;
            if (e % 2 == 0) /* near the diagonal */
                c = (i + (long)(r % 33) - 16 + N) % N;
            else            /* anywhere */
                c = (long)((r >> 20) % (uint64_t)N);
            colidx[k] = (int)c;
            val[k] = (double)((r >> 40) % 1000 + 1) / 1000.0;
            k++;
        }
    }
    rowptr[N] = (int)k;
    free(len);
}

/* Serial upper bound on the spectral radius (Collatz-Wielandt: for x > 0,
 * rho(A) <= max_i (A x)_i / x_i) after a few max-normalised power
 * iterations; x is reset to its initial value afterwards. */
static void estimate_scale(void)
{
    double bound = 0.0;
    for (long i = 0; i < N; i++)
        x[i] = 1.0;
    for (int it = 0; it < 8; it++) {
        double ymax = 0.0;
        bound = 0.0;
        for (long i = 0; i < N; i++) {
            double acc = 0.0;
            for (int k = rowptr[i]; k < rowptr[i + 1]; k++)
                acc += val[k] * x[colidx[k]];
            y[i] = acc;
            if (acc > ymax)
                ymax = acc;
            if (acc / x[i] > bound)
                bound = acc / x[i];
        }
        for (long i = 0; i < N; i++)
            x[i] = y[i] / ymax;
    }
    scale = 1.0 / bound;
    for (long i = 0; i < N; i++) {
        x[i] = 1.0 + (double)(i % 13) / 13.0;
        y[i] = 0.0;
    }
}

static void kernel_spmv(int reps, int n, const int *restrict rp, const int *restrict ci,
                        const double *restrict v, double *restrict xv, double *restrict yv,
                        double s)
{
    for (int r = 0; r < reps; r++) {
#pragma omp parallel for schedule(dynamic, 64)
        for (int i = 0; i < n; i++) {
            double acc = 0.0;
            for (int k = rp[i]; k < rp[i + 1]; k++)
                acc += v[k] * xv[ci[k]];
            yv[i] = acc;
        }
#pragma omp parallel for
        for (int i = 0; i < n; i++)
            xv[i] = yv[i] * s;
    }
}

int main(void)
{
    build_matrix();
    estimate_scale();

    AUTOTUNE_REGION_BEGIN(kernel);
    kernel_spmv(REPS, N, rowptr, colidx, val, x, y, scale);
    AUTOTUNE_REGION_END(kernel);

    double sum = 0.0, wsum = 0.0;
    for (long i = 0; i < N; i++) {
        sum += y[i];
        wsum += y[i] * (double)(i % 97 + 1);
    }
    printf("spmv-csr nnz %d\n", rowptr[N]);
    printf("spmv-csr y sum %.12e\n", sum);
    printf("spmv-csr y wsum %.12e\n", wsum);

    free(rowptr);
    free(colidx);
    free(val);
    free(x);
    free(y);
    return 0;
}
