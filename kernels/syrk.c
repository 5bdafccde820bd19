/* syrk.c: symmetric rank-k update, lower triangle only,
 *     C := alpha * A * A^T + beta * C     (A: N x M, C: N x N)
 * Only C[i][j] with j <= i is read and written; the strict upper triangle
 * keeps its initial values (and is included in the checksum).
 *
 * Sizes (N x M):  MINI 80x60,  SMALL 360x320,  MEDIUM 900x800 (default),
 *                 LARGE 1600x1400.   Override with -DN=... -DM=...
 *
 * OpenMP / loop features:
 *   - triangular nest (j <= i) with `parallel for schedule(dynamic, 8)`
 *     on the outer loop to balance the triangle;
 *   - innermost k loop is a dot product over two contiguous rows of A;
 *   - a separate perfectly nested triangular scale loop;
 *   - static global arrays.
 * Each C[i][j] is computed by one thread with k in increasing order.
 */
#include <stdio.h>
#include <autotune.h>

#if defined(MINI_DATASET)
#  define DEF_N 80
#  define DEF_M 60
#elif defined(SMALL_DATASET)
#  define DEF_N 360
#  define DEF_M 320
#elif defined(LARGE_DATASET)
#  define DEF_N 1600
#  define DEF_M 1400
#else /* MEDIUM_DATASET (default) */
#  define DEF_N 900
#  define DEF_M 800
#endif
#ifndef N
#  define N DEF_N
#endif
#ifndef M
#  define M DEF_M
#endif

static double A[N][M];
static double C[N][N];

static void init_array(int n, int m, double *alpha, double *beta)
{
    *alpha = 1.5;
    *beta = 1.2;
    for (int i = 0; i < n; i++)
        for (int k = 0; k < m; k++)
            A[i][k] = (double)((i * k + 1) % n) / n;
    for (int i = 0; i < n; i++)
        for (int j = 0; j < n; j++)
            C[i][j] = (double)((i * j + 2) % m) / m;
}

static void kernel_syrk(int n, int m, double alpha, double beta,
                        double c[N][N], double a[N][M])
{
#pragma omp parallel for schedule(dynamic, 8)
    for (int i = 0; i < n; i++)
        for (int j = 0; j <= i; j++)
            c[i][j] *= beta;

#pragma omp parallel for schedule(dynamic, 8)
    for (int i = 0; i < n; i++)
        for (int j = 0; j <= i; j++) {
            double s = 0.0;
            for (int k = 0; k < m; k++)
                s += a[i][k] * a[j][k];
            c[i][j] += alpha * s;
        }
}

static void print_checksum(const char *name, int n, int m, double x[n][m])
{
    double sum = 0.0, wsum = 0.0;
    for (int i = 0; i < n; i++)
        for (int j = 0; j < m; j++) {
            sum += x[i][j];
            wsum += (double)(((long)i * m + j + 1) % 7) * x[i][j];
        }
    printf("syrk %s sum %.12e\n", name, sum);
    printf("syrk %s wsum %.12e\n", name, wsum);
}

int main(void)
{
    double alpha, beta;
    init_array(N, M, &alpha, &beta);

    AUTOTUNE_REGION_BEGIN(kernel);
    kernel_syrk(N, M, alpha, beta, C, A);
    AUTOTUNE_REGION_END(kernel);

    print_checksum("C", N, N, C);
    return 0;
}
