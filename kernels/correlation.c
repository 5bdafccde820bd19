/* correlation.c: Pearson correlation matrix of N observations of M
 * variables.
 *     mean[j]   = sum_i data[i][j] / N
 *     stddev[j] = sqrt(sum_i (data[i][j] - mean[j])^2 / N)  (1 if <= eps)
 *     data[i][j] = (data[i][j] - mean[j]) / (sqrt(N) * stddev[j])
 *     corr[i][j] = corr[j][i] = sum_k data[k][i] * data[k][j],  i < j;
 *     corr[i][i] = 1
 * data is N x M, corr is M x M.
 *
 * Sizes (M variables x N observations):  MINI 60x70,  SMALL 400x450,
 *                                        MEDIUM 1100x1400 (default),
 *                                        LARGE 1700x2000.
 * Override with -DM=... -DN=...
 *
 * OpenMP / loop features:
 *   - column statistics with `parallel for firstprivate(float_n, eps)`;
 *   - normalisation as a perfectly nested rectangular depth-2 loop with
 *     `parallel for collapse(2)`;
 *   - correlation nest in i-k-j order: each thread owns rows i of corr and
 *     accumulates with k outer and a contiguous triangular j > i loop
 *     innermost, `schedule(guided)`;
 *   - a separate mirroring loop (lower := upper) with `schedule(static)`;
 *   - arrays allocated with malloc.
 * Each output element is computed by one thread in a fixed order.
 */
#include <stdio.h>
#include <stdlib.h>
#include <math.h>
#include <autotune.h>

#if defined(MINI_DATASET)
#  define DEF_M 60
#  define DEF_N 70
#elif defined(SMALL_DATASET)
#  define DEF_M 400
#  define DEF_N 450
#elif defined(LARGE_DATASET)
#  define DEF_M 1700
#  define DEF_N 2000
#else /* MEDIUM_DATASET (default) */
#  define DEF_M 1100
#  define DEF_N 1400
#endif
#ifndef M
#  define M DEF_M
#endif
#ifndef N
#  define N DEF_N
#endif

static void init_array(int m, int n, double data[n][m])
{
    for (int i = 0; i < n; i++)
        for (int j = 0; j < m; j++)
            data[i][j] = (double)((i * j) % m + (i * 7 + j) % 11) / m;
}

static void kernel_correlation(int m, int n, double data[n][m],
                               double corr[m][m], double *mean,
                               double *stddev)
{
    double float_n = (double)n;
    double eps = 0.1;
    double sqrt_n = sqrt(float_n);

#pragma omp parallel for firstprivate(float_n, eps)
    for (int j = 0; j < m; j++) {
        double s = 0.0;
        for (int i = 0; i < n; i++)
            s += data[i][j];
        s /= float_n;
        mean[j] = s;
        double v = 0.0;
        for (int i = 0; i < n; i++)
            v += (data[i][j] - s) * (data[i][j] - s);
        v = sqrt(v / float_n);
        stddev[j] = v <= eps ? 1.0 : v;
    }

#pragma omp parallel for collapse(2)
    for (int i = 0; i < n; i++)
        for (int j = 0; j < m; j++)
            data[i][j] = (data[i][j] - mean[j]) / (sqrt_n * stddev[j]);

#pragma omp parallel for schedule(guided)
    for (int i = 0; i < m; i++) {
        for (int j = i + 1; j < m; j++)
            corr[i][j] = 0.0;
        for (int k = 0; k < n; k++)
            for (int j = i + 1; j < m; j++)
                corr[i][j] += data[k][i] * data[k][j];
        corr[i][i] = 1.0;
    }

#pragma omp parallel for schedule(static)
    for (int i = 0; i < m; i++)
        for (int j = 0; j < i; j++)
            corr[i][j] = corr[j][i];
}

int main(void)
{
    double (*data)[M] = malloc(sizeof(double[N][M]));
    double (*corr)[M] = malloc(sizeof(double[M][M]));
    double *mean = malloc(sizeof(double) * M);
    double *stddev = malloc(sizeof(double) * M);
    if (!data || !corr || !mean || !stddev) {
        fprintf(stderr, "correlation: out of memory\n");
        return 1;
    }

    init_array(M, N, data);

    AUTOTUNE_REGION_BEGIN(kernel);
    kernel_correlation(M, N, data, corr, mean, stddev);
    AUTOTUNE_REGION_END(kernel);

    double sum = 0.0, wsum = 0.0, ssum = 0.0;
    for (int j = 0; j < M; j++)
        ssum += (double)((j + 1) % 7) * stddev[j];
    for (int i = 0; i < M; i++)
        for (int j = 0; j < M; j++) {
            sum += corr[i][j];
            wsum += (double)(((long)i * M + j + 1) % 7) * corr[i][j];
        }
    printf("correlation stddev wsum %.12e\n", ssum);
    printf("correlation corr sum %.12e\n", sum);
    printf("correlation corr wsum %.12e\n", wsum);

    free(data);
    free(corr);
    free(mean);
    free(stddev);
    return 0;
}
