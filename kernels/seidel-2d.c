/*
 * seidel-2d.c -- 2-D Gauss-Seidel nine-point relaxation, in place.
 *
 * Computes TSTEPS sweeps of A[i][j] = (sum of the 3x3 neighbourhood)/9 over
 * the interior of an N x N array, updated in place in lexicographic (i, j)
 * order exactly as the sequential PolyBench seidel-2d does.  The sweep is
 * parallelised with a wavefront on w = 2*i + j: every cell (i, j) depends on
 * (i-1, j-1), (i-1, j), (i-1, j+1), (i, j-1) (already updated; w smaller) and
 * on (i, j+1), (i+1, j-1), (i+1, j), (i+1, j+1) (not yet updated; w larger),
 * so all cells of one wavefront are independent and the result is bit-
 * identical to the sequential sweep for any thread count or schedule.
 *
 * Sizes (N, TSTEPS):  MINI (30, 10)   SMALL (300, 40)
 *                     MEDIUM (1000, 80)   LARGE (2000, 100)
 *
 * OpenMP / loop features: kernel in a separate function; one
 * `#pragma omp parallel` region around the time and wavefront loops, which
 * calls another function holding a truly orphaned
 * `#pragma omp for schedule(static)` (no lexically enclosing parallel
 * construct) per wavefront, whose bounds depend on the wavefront index
 * (non-rectangular iteration space, strided access j = w - 2*i).
 */
#include <stdio.h>
#include <stdlib.h>
#include <autotune.h>

#if !defined(MINI_DATASET) && !defined(SMALL_DATASET) && \
    !defined(MEDIUM_DATASET) && !defined(LARGE_DATASET)
#define MEDIUM_DATASET
#endif

#if defined(MINI_DATASET)
# ifndef N
#  define N 30
# endif
# ifndef TSTEPS
#  define TSTEPS 10
# endif
#elif defined(SMALL_DATASET)
# ifndef N
#  define N 300
# endif
# ifndef TSTEPS
#  define TSTEPS 40
# endif
#elif defined(MEDIUM_DATASET)
# ifndef N
#  define N 1000
# endif
# ifndef TSTEPS
#  define TSTEPS 80
# endif
#else /* LARGE_DATASET */
# ifndef N
#  define N 2000
# endif
# ifndef TSTEPS
#  define TSTEPS 100
# endif
#endif

static double A[N][N];

static void init_array(int n, double a[N][N])
{
    for (int i = 0; i < n; i++)
        for (int j = 0; j < n; j++)
            a[i][j] = (double)((i * i * 3 + j * 7 + i * j) % 101) / 101.0;
}

/* One wavefront w = 2*i + j.  Called from inside a parallel region: the
 * `omp for` below is orphaned (its parallel region is in the caller). */
static void relax_wavefront(int n, int w, double a[N][N])
{
    int ilo = (w - (n - 2) + 1) / 2; /* j <= n-2  =>  i >= (w-(n-2))/2 */
    if (ilo < 1)
        ilo = 1;
    int ihi = (w - 1) / 2;           /* j >= 1    =>  i <= (w-1)/2     */
    if (ihi > n - 2)
        ihi = n - 2;
#pragma omp for schedule(static)
    for (int i = ilo; i <= ihi; i++) {
        int j = w - 2 * i;
        a[i][j] = (a[i - 1][j - 1] + a[i - 1][j] + a[i - 1][j + 1]
                 + a[i][j - 1] + a[i][j] + a[i][j + 1]
                 + a[i + 1][j - 1] + a[i + 1][j] + a[i + 1][j + 1]) / 9.0;
    }
    /* implicit barrier: wavefront w is complete before w + 1 starts */
}

static void kernel_seidel_2d(int tsteps, int n, double a[N][N])
{
#pragma omp parallel
    {
        for (int t = 0; t < tsteps; t++) {
            /* interior cells: 1 <= i, j <= n-2, so w = 2*i + j in [3, 3*(n-2)] */
            for (int w = 3; w <= 3 * (n - 2); w++)
                relax_wavefront(n, w, a);
        }
    }
}

static void print_checksums(int n, double a[N][N])
{
    double sum = 0.0, wsum = 0.0;
    for (int i = 0; i < n; i++)
        for (int j = 0; j < n; j++) {
            long idx = (long)i * n + j;
            sum += a[i][j];
            wsum += a[i][j] * (double)(idx % 97 + 1);
        }
    printf("seidel-2d A sum %.12e\n", sum);
    printf("seidel-2d A wsum %.12e\n", wsum);
}

int main(void)
{
    init_array(N, A);

    AUTOTUNE_REGION_BEGIN(kernel);
    kernel_seidel_2d(TSTEPS, N, A);
    AUTOTUNE_REGION_END(kernel);

    print_checksums(N, A);
    return 0;
}
