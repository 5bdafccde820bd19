/*
 * triangular.c -- symmetric rank-k update on the lower triangle (SYRK-like),
 * then mirroring into the upper triangle.
 *
 *   C[i][j] = beta * C[i][j] + alpha * sum_k A[i][k] * A[j][k]   for j <= i
 *   C[i][j] = C[j][i]                                            for j >  i
 *
 * Row i of the first nest costs (i+1)*M multiply-adds and row i of the second
 * costs N-1-i copies, so the work per outer iteration is strongly imbalanced
 * in opposite directions.
 *
 * Sizes (N, M):  MINI (40, 30)   SMALL (400, 300)
 *                MEDIUM (1000, 700)   LARGE (1600, 1400)
 *
 * OpenMP / loop features: kernel in a separate function; depth-3 nest whose
 * middle loop bound depends on the outer index (j <= i) under
 * `#pragma omp parallel for schedule(dynamic, 4)`; depth-2 nest whose inner
 * loop starts at the outer index (j = i+1 .. N-1) under a plain
 * `#pragma omp parallel for` (default static schedule: imbalanced); innermost
 * dot-product loop is a floating-point reduction into a private scalar.
 * Each C element is computed by one thread in fixed k order, so the output
 * does not depend on the thread count or the schedule.
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
# ifndef M
#  define M 30
# endif
#elif defined(SMALL_DATASET)
# ifndef N
#  define N 400
# endif
# ifndef M
#  define M 300
# endif
#elif defined(MEDIUM_DATASET)
# ifndef N
#  define N 1000
# endif
# ifndef M
#  define M 700
# endif
#else /* LARGE_DATASET */
# ifndef N
#  define N 1600
# endif
# ifndef M
#  define M 1400
# endif
#endif

static double A[N][M];
static double C[N][N];

static void init_array(int n, int m)
{
    for (int i = 0; i < n; i++)
        for (int k = 0; k < m; k++)
            A[i][k] = (double)((i * k + 1) % n) / (double)n;
    for (int i = 0; i < n; i++)
        for (int j = 0; j < n; j++)
            C[i][j] = (double)((i * j + 2) % m) / (double)m;
}

static void kernel_triangular(int n, int m, double alpha, double beta,
                              double a[N][M], double c[N][N])
{
#pragma omp parallel for schedule(dynamic, 4)
    for (int i = 0; i < n; i++)
        for (int j = 0; j <= i; j++) {
            double s = 0.0;
            for (int k = 0; k < m; k++)
                s += a[i][k] * a[j][k];
            c[i][j] = beta * c[i][j] + alpha * s;
        }
#pragma omp parallel for
    for (int i = 0; i < n; i++)
        for (int j = i + 1; j < n; j++)
            c[i][j] = c[j][i];
}

int main(void)
{
    init_array(N, M);

    AUTOTUNE_REGION_BEGIN(kernel);
    kernel_triangular(N, M, 1.5, 1.2, A, C);
    AUTOTUNE_REGION_END(kernel);

    double sum = 0.0, wsum = 0.0;
    for (int i = 0; i < N; i++)
        for (int j = 0; j < N; j++) {
            long idx = (long)i * N + j;
            sum += C[i][j];
            wsum += C[i][j] * (double)(idx % 97 + 1);
        }
    printf("triangular C sum %.12e\n", sum);
    printf("triangular C wsum %.12e\n", wsum);
    return 0;
}
