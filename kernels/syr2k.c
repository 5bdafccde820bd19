/* syr2k.c: symmetric rank-2k update, lower triangle only,
 *     C := alpha * A * B^T + alpha * B * A^T + beta * C
 * with A, B of N x M and C of N x N. Only C[i][j] with j <= i is updated.
 *
 * Sizes (N x M):  MINI 70x60,  SMALL 280x240,  MEDIUM 800x700 (default),
 *                 LARGE 1400x1200.   Override with -DN=... -DM=...
 *
 * OpenMP / loop features:
 *   - loop counters declared at function top, `parallel for private(j, k)`
 *     with a cyclic `schedule(static, 4)` to balance the triangle;
 *   - triangular i-k-j nest (j <= i innermost, strided column accesses
 *     A[j][k], B[j][k]) as a loop-interchange / tiling candidate;
 *   - `firstprivate(alpha)` on the update loop;
 *   - arrays allocated with malloc.
 * Each C[i][j] is computed by one thread with k in increasing order.
 */
#include <stdio.h>
#include <stdlib.h>
#include <autotune.h>

#if defined(MINI_DATASET)
#  define DEF_N 70
#  define DEF_M 60
#elif defined(SMALL_DATASET)
#  define DEF_N 280
#  define DEF_M 240
#elif defined(LARGE_DATASET)
#  define DEF_N 1400
#  define DEF_M 1200
#else /* MEDIUM_DATASET (default) */
#  define DEF_N 800
#  define DEF_M 700
#endif
#ifndef N
#  define N DEF_N
#endif
#ifndef M
#  define M DEF_M
#endif

static void init_array(int n, int m, double *alpha, double *beta,
                       double C[n][n], double A[n][m], double B[n][m])
{
    *alpha = 1.5;
    *beta = 1.2;
    for (int i = 0; i < n; i++)
        for (int j = 0; j < m; j++) {
            A[i][j] = (double)((i * j + 1) % n) / n;
            B[i][j] = (double)((i * j + 2) % m) / m;
        }
    for (int i = 0; i < n; i++)
        for (int j = 0; j < n; j++)
            C[i][j] = (double)((i * j + 3) % n) / m;
}

static void kernel_syr2k(int n, int m, double alpha, double beta,
                         double C[n][n], double A[n][m], double B[n][m])
{
    int i, j, k;

#pragma omp parallel for private(j, k) firstprivate(alpha) schedule(static, 4)
    for (i = 0; i < n; i++) {
        for (j = 0; j <= i; j++)
            C[i][j] *= beta;
        for (k = 0; k < m; k++)
            for (j = 0; j <= i; j++)
                C[i][j] += A[j][k] * alpha * B[i][k] + B[j][k] * alpha * A[i][k];
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
    printf("syr2k %s sum %.12e\n", name, sum);
    printf("syr2k %s wsum %.12e\n", name, wsum);
}

int main(void)
{
    double alpha, beta;
    double (*C)[N] = malloc(sizeof(double[N][N]));
    double (*A)[M] = malloc(sizeof(double[N][M]));
    double (*B)[M] = malloc(sizeof(double[N][M]));
    if (!C || !A || !B) {
        fprintf(stderr, "syr2k: out of memory\n");
        return 1;
    }

    init_array(N, M, &alpha, &beta, C, A, B);

    AUTOTUNE_REGION_BEGIN(kernel);
    kernel_syr2k(N, M, alpha, beta, C, A, B);
    AUTOTUNE_REGION_END(kernel);

    print_checksum("C", N, N, C);

    free(C);
    free(A);
    free(B);
    return 0;
}
