/*
 * heat-3d.c -- 3-D heat equation, explicit seven-point stencil.
 *
 * Computes TSTEPS time steps of B = A + 0.125 * (discrete Laplacian of A in
 * each dimension), then A from B likewise, on two N x N x N arrays of doubles
 * (PolyBench-like).
 *
 * Sizes (N, TSTEPS):  MINI (12, 10)   SMALL (50, 60)
 *                     MEDIUM (120, 60)   LARGE (200, 100)
 *
 * OpenMP / loop features: time loop inline in main; two perfect rectangular
 * depth-3 nests, the first under `#pragma omp parallel for collapse(2)
 * schedule(static)`, the second under a plain `#pragma omp parallel for`
 * (outer loop only).  Candidates for `omp tile sizes(a,b,c)`.
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
#  define N 12
# endif
# ifndef TSTEPS
#  define TSTEPS 10
# endif
#elif defined(SMALL_DATASET)
# ifndef N
#  define N 50
# endif
# ifndef TSTEPS
#  define TSTEPS 60
# endif
#elif defined(MEDIUM_DATASET)
# ifndef N
#  define N 120
# endif
# ifndef TSTEPS
#  define TSTEPS 60
# endif
#else /* LARGE_DATASET */
# ifndef N
#  define N 200
# endif
# ifndef TSTEPS
#  define TSTEPS 100
# endif
#endif

static double A[N][N][N];
static double B[N][N][N];

int main(void)
{
    for (int i = 0; i < N; i++)
        for (int j = 0; j < N; j++)
            for (int k = 0; k < N; k++) {
                A[i][j][k] = (double)((i * i + 3 * j + (N - k) * k) % 100) / 10.0;
                B[i][j][k] = A[i][j][k];
            }

    AUTOTUNE_REGION_BEGIN(kernel);
    for (int t = 1; t <= TSTEPS; t++) {
#pragma omp parallel for collapse(2) schedule(static)
        for (int i = 1; i < N - 1; i++)
            for (int j = 1; j < N - 1; j++)
                for (int k = 1; k < N - 1; k++)
                    B[i][j][k] = 0.125 * (A[i + 1][j][k] - 2.0 * A[i][j][k] + A[i - 1][j][k])
                               + 0.125 * (A[i][j + 1][k] - 2.0 * A[i][j][k] + A[i][j - 1][k])
                               + 0.125 * (A[i][j][k + 1] - 2.0 * A[i][j][k] + A[i][j][k - 1])
                               + A[i][j][k];
#pragma omp parallel for
        for (int i = 1; i < N - 1; i++)
            for (int j = 1; j < N - 1; j++)
                for (int k = 1; k < N - 1; k++)
                    A[i][j][k] = 0.125 * (B[i + 1][j][k] - 2.0 * B[i][j][k] + B[i - 1][j][k])
                               + 0.125 * (B[i][j + 1][k] - 2.0 * B[i][j][k] + B[i][j - 1][k])
                               + 0.125 * (B[i][j][k + 1] - 2.0 * B[i][j][k] + B[i][j][k - 1])
                               + B[i][j][k];
    }
    AUTOTUNE_REGION_END(kernel);

    double sum = 0.0, wsum = 0.0;
    for (int i = 0; i < N; i++)
        for (int j = 0; j < N; j++)
            for (int k = 0; k < N; k++) {
                long idx = ((long)i * N + j) * N + k;
                sum += A[i][j][k];
                wsum += A[i][j][k] * (double)(idx % 97 + 1);
            }
    printf("heat-3d A sum %.12e\n", sum);
    printf("heat-3d A wsum %.12e\n", wsum);
    return 0;
}
