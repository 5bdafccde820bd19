/*
 * jacobi-2d.c -- 2-D Jacobi five-point stencil.
 *
 * Computes TSTEPS time steps of B = 5-point average of A, then A = 5-point
 * average of B, on two N x N arrays of doubles (PolyBench-like).
 *
 * Sizes (N, TSTEPS):  MINI (40, 20)   SMALL (400, 40)
 *                     MEDIUM (1300, 30)   LARGE (2800, 40)
 *
 * OpenMP / loop features: kernel in a separate function called from main;
 * each sweep is a perfect rectangular depth-2 nest under
 * `#pragma omp parallel for collapse(2)` (a fresh parallel region per sweep,
 * default schedule).  Candidate for `omp tile sizes(...)` and inner-loop hints.
 * Output is independent of thread count (each element written by one thread).
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
#  define N 40
# endif
# ifndef TSTEPS
#  define TSTEPS 20
# endif
#elif defined(SMALL_DATASET)
# ifndef N
#  define N 400
# endif
# ifndef TSTEPS
#  define TSTEPS 40
# endif
#elif defined(MEDIUM_DATASET)
# ifndef N
#  define N 1300
# endif
# ifndef TSTEPS
#  define TSTEPS 30
# endif
#else /* LARGE_DATASET */
# ifndef N
#  define N 2800
# endif
# ifndef TSTEPS
#  define TSTEPS 40
# endif
#endif

static double A[N][N];
static double B[N][N];

static void init_array(int n, double a[N][N], double b[N][N])
{
    for (int i = 0; i < n; i++)
        for (int j = 0; j < n; j++) {
            a[i][j] = (double)((i * i * 3 + j * 7 + i * j) % 101) / 101.0;
            b[i][j] = (double)((i * 5 + j * j * 2 + 1) % 103) / 103.0;
        }
}

static void kernel_jacobi_2d(int tsteps, int n, double a[N][N], double b[N][N])
{
    for (int t = 0; t < tsteps; t++) {
#pragma omp parallel for collapse(2)
        for (int i = 1; i < n - 1; i++)
            for (int j = 1; j < n - 1; j++)
                b[i][j] = 0.2 * (a[i][j] + a[i][j - 1] + a[i][j + 1] +
                                 a[i + 1][j] + a[i - 1][j]);
#pragma omp parallel for collapse(2)
        for (int i = 1; i < n - 1; i++)
            for (int j = 1; j < n - 1; j++)
                a[i][j] = 0.2 * (b[i][j] + b[i][j - 1] + b[i][j + 1] +
                                 b[i + 1][j] + b[i - 1][j]);
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
    printf("jacobi-2d A sum %.12e\n", sum);
    printf("jacobi-2d A wsum %.12e\n", wsum);
}

int main(void)
{
    init_array(N, A, B);

    AUTOTUNE_REGION_BEGIN(kernel);
    kernel_jacobi_2d(TSTEPS, N, A, B);
    AUTOTUNE_REGION_END(kernel);

    print_checksums(N, A);
    return 0;
}
