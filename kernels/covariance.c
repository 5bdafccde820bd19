/* covariance.c: sample covariance matrix of N observations of M variables.
 *     mean[j]   = sum_i data[i][j] / N
 *     data[i][j] -= mean[j]
 *     cov[i][j] = cov[j][i] = sum_k data[k][i] * data[k][j] / (N - 1),  i <= j
 * data is N x M, cov is M x M.
 *
 * Sizes (M variables x N observations):  MINI 60x70,  SMALL 280x300,
 *                                        MEDIUM 700x800 (default),
 *                                        LARGE 1200x1400.
 * Override with -DM=... -DN=...
 *
 * OpenMP / loop features:
 *   - column means with `parallel for` over j (strided i loop inside);
 *   - centring as a perfectly nested rectangular depth-2 loop with
 *     `parallel for collapse(2) schedule(static)`;
 *   - triangular (j >= i) covariance nest with `schedule(dynamic, 4)` and a
 *     strided dot-product innermost k loop; mirrored store to cov[j][i];
 *   - static global arrays.
 * Each output element is computed by one thread in a fixed order.
 */
#include <stdio.h>
#include <autotune.h>

#if defined(MINI_DATASET)
#  define DEF_M 60
#  define DEF_N 70
#elif defined(SMALL_DATASET)
#  define DEF_M 280
#  define DEF_N 300
#elif defined(LARGE_DATASET)
#  define DEF_M 1200
#  define DEF_N 1400
#else /* MEDIUM_DATASET (default) */
#  define DEF_M 700
#  define DEF_N 800
#endif
#ifndef M
#  define M DEF_M
#endif
#ifndef N
#  define N DEF_N
#endif

static double data[N][M];
static double cov[M][M];
static double mean[M];

static void init_array(int m, int n)
{
    for (int i = 0; i < n; i++)
        for (int j = 0; j < m; j++)
            data[i][j] = (double)((i * j) % m + (i % 13)) / m;
}

static void kernel_covariance(int m, int n, double d[N][M], double c[M][M],
                              double mu[M])
{
    double float_n = (double)n;

#pragma omp parallel for
    for (int j = 0; j < m; j++) {
        double s = 0.0;
        for (int i = 0; i < n; i++)
            s += d[i][j];
        mu[j] = s / float_n;
    }

#pragma omp parallel for collapse(2) schedule(static)
    for (int i = 0; i < n; i++)
        for (int j = 0; j < m; j++)
            d[i][j] -= mu[j];

#pragma omp parallel for schedule(dynamic, 4)
    for (int i = 0; i < m; i++)
        for (int j = i; j < m; j++) {
            double s = 0.0;
            for (int k = 0; k < n; k++)
                s += d[k][i] * d[k][j];
            s /= (float_n - 1.0);
            c[i][j] = s;
            c[j][i] = s;
        }
}

int main(void)
{
    init_array(M, N);

    AUTOTUNE_REGION_BEGIN(kernel);
    kernel_covariance(M, N, data, cov, mean);
    AUTOTUNE_REGION_END(kernel);

    double sum = 0.0, wsum = 0.0, msum = 0.0;
    for (int j = 0; j < M; j++)
        msum += (double)((j + 1) % 7) * mean[j];
    for (int i = 0; i < M; i++)
        for (int j = 0; j < M; j++) {
            sum += cov[i][j];
            wsum += (double)(((long)i * M + j + 1) % 7) * cov[i][j];
        }
    printf("covariance mean wsum %.12e\n", msum);
    printf("covariance cov sum %.12e\n", sum);
    printf("covariance cov wsum %.12e\n", wsum);
    return 0;
}
