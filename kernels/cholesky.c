/* cholesky.c: in-place Cholesky factorisation A = L * L^T of a symmetric,
 * diagonally dominant (hence positive definite) N x N matrix. Right-looking
 * variant working on the lower triangle:
 * for k: A[k][k] = sqrt(A[k][k]);  A[i][k] /= A[k][k] (i > k);
 *        A[i][j] -= A[i][k] * A[j][k]  (k < j <= i).
 * The strict upper triangle is never touched.
 *
 * Sizes (N):  MINI 120,  SMALL 500,  MEDIUM 1300 (default),  LARGE 2400.
 * Override with -DN=...
 *
 * OpenMP / loop features:
 *   - serial outer k loop with two `parallel for` regions per step;
 *   - column scaling with `schedule(static)`;
 *   - triangular trailing update (k < j <= i) with `schedule(dynamic, 8)`
 *     and strided column accesses A[j][k];
 *   - loop counters declared at function top, `private(j)`;
 *   - array allocated with malloc.
 * Every element is updated by one thread per step, steps in fixed order.
 */
#include <stdio.h>
#include <stdlib.h>
#include <math.h>
#include <autotune.h>

#if defined(MINI_DATASET)
#  define DEF_N 120
#elif defined(SMALL_DATASET)
#  define DEF_N 500
#elif defined(LARGE_DATASET)
#  define DEF_N 2400
#else /* MEDIUM_DATASET (default) */
#  define DEF_N 1300
#endif
#ifndef N
#  define N DEF_N
#endif

static void init_array(int n, double A[n][n])
{
    for (int i = 0; i < n; i++)
        for (int j = 0; j < n; j++) {
            A[i][j] = (double)((i * j) % n + 1) / n;
            if (i == j)
                A[i][j] += (double)n;
        }
}

static void kernel_cholesky(int n, double A[n][n])
{
    int i, j, k;

    for (k = 0; k < n; k++) {
        A[k][k] = sqrt(A[k][k]);

#pragma omp parallel for schedule(static)
        for (i = k + 1; i < n; i++)
            A[i][k] = A[i][k] / A[k][k];

#pragma omp parallel for private(j) schedule(dynamic, 8)
        for (i = k + 1; i < n; i++)
            for (j = k + 1; j <= i; j++)
                A[i][j] = A[i][j] - A[i][k] * A[j][k];
    }
}

int main(void)
{
    double (*A)[N] = malloc(sizeof(double[N][N]));
    if (!A) {
        fprintf(stderr, "cholesky: out of memory\n");
        return 1;
    }

    init_array(N, A);

    AUTOTUNE_REGION_BEGIN(kernel);
    kernel_cholesky(N, A);
    AUTOTUNE_REGION_END(kernel);

    double sum = 0.0, wsum = 0.0, diag = 0.0;
    for (int i = 0; i < N; i++) {
        diag += A[i][i];
        for (int j = 0; j <= i; j++) {
            sum += A[i][j];
            wsum += (double)(((long)i * N + j + 1) % 7) * A[i][j];
        }
    }
    printf("cholesky L sum %.12e\n", sum);
    printf("cholesky L wsum %.12e\n", wsum);
    printf("cholesky L diag sum %.12e\n", diag);

    free(A);
    return 0;
}
