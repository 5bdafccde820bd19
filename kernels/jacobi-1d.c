/*
 * jacobi-1d.c -- 1-D Jacobi three-point stencil.
 *
 * Computes TSTEPS time steps of B[i] = (A[i-1]+A[i]+A[i+1])/3 followed by
 * A[i] = (B[i-1]+B[i]+B[i+1])/3 on two arrays of N doubles (PolyBench-like).
 *
 * Sizes (N, TSTEPS):  MINI (2000, 20)   SMALL (200000, 120)
 *                     MEDIUM (1000000, 500)   LARGE (4000000, 600)
 *
 * OpenMP / loop features: the time loop is written inline in main, inside ONE
 * `#pragma omp parallel` region; each sweep is an orphaned-style
 * `#pragma omp for schedule(static)` work-sharing loop (implicit barriers
 * order the sweeps).  Innermost loops are unit-stride and vectorisable.
 * Output is independent of thread count: every element is written by exactly
 * one thread per sweep from values of the previous sweep.
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
#  define N 2000
# endif
# ifndef TSTEPS
#  define TSTEPS 20
# endif
#elif defined(SMALL_DATASET)
# ifndef N
#  define N 200000
# endif
# ifndef TSTEPS
#  define TSTEPS 120
# endif
#elif defined(MEDIUM_DATASET)
# ifndef N
#  define N 1000000
# endif
# ifndef TSTEPS
#  define TSTEPS 500
# endif
#else /* LARGE_DATASET */
# ifndef N
#  define N 4000000
# endif
# ifndef TSTEPS
#  define TSTEPS 600
# endif
#endif

static double A[N];
static double B[N];

int main(void)
{
    for (int i = 0; i < N; i++) {
        A[i] = ((double)(i % 1000) + 2.0) / 1000.0;
        B[i] = ((double)(i % 777) + 3.0) / 777.0;
    }

    AUTOTUNE_REGION_BEGIN(kernel);
#pragma omp parallel
    {
        for (int t = 0; t < TSTEPS; t++) {
#pragma omp for schedule(static)
            for (int i = 1; i < N - 1; i++)
                B[i] = 0.33333 * (A[i - 1] + A[i] + A[i + 1]);
#pragma omp for schedule(static)
            for (int i = 1; i < N - 1; i++)
                A[i] = 0.33333 * (B[i - 1] + B[i] + B[i + 1]);
        }
    }
    AUTOTUNE_REGION_END(kernel);

    double sum = 0.0, wsum = 0.0;
    for (int i = 0; i < N; i++) {
        sum += A[i];
        wsum += A[i] * (double)(i % 97 + 1);
    }
    printf("jacobi-1d A sum %.12e\n", sum);
    printf("jacobi-1d A wsum %.12e\n", wsum);
    return 0;
}
