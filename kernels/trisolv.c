/* trisolv.c: forward substitution with many right-hand sides,
 *     L * x_r = b_r   for r = 0..R-1,
 * with L an N x N lower triangular matrix (diagonally dominant) and the
 * right-hand sides / solutions stored as rows of B and X (R x N):
 *     X[r][i] = (B[r][i] - sum_{k<i} L[i][k] * X[r][k]) / L[i][i].
 *
 * Sizes (N x R):  MINI 120x8,  SMALL 400x192,  MEDIUM 1500x200 (default),
 *                 LARGE 2500x640.   Override with -DN=... -DR=...
 *
 * OpenMP / loop features:
 *   - `parallel for schedule(static)` over the independent right-hand
 *     sides, each solved by one thread;
 *   - triangular (i, k < i) nest with a dot-product innermost loop
 *     over contiguous rows of L and X;
 *   - a perfectly nested rectangular depth-2 copy loop with
 *     `collapse(2)`;
 *   - static global arrays.
 * Each X[r][i] is computed by one thread with k in increasing order.
 */
#include <stdio.h>
#include <autotune.h>

#if defined(MINI_DATASET)
#  define DEF_N 120
#  define DEF_R 8
#elif defined(SMALL_DATASET)
#  define DEF_N 400
#  define DEF_R 192
#elif defined(LARGE_DATASET)
#  define DEF_N 2500
#  define DEF_R 640
#else /* MEDIUM_DATASET (default) */
#  define DEF_N 1500
#  define DEF_R 200
#endif
#ifndef N
#  define N DEF_N
#endif
#ifndef R
#  define R DEF_R
#endif

static double L[N][N];
static double B[R][N];
static double X[R][N];

static void init_array(int n, int nr)
{
    double fn = (double)n;
    for (int i = 0; i < n; i++)
        for (int k = 0; k < n; k++) {
            if (k < i)
                L[i][k] = (double)((i * k + 1) % n) / (2.0 * fn * fn);
            else if (k == i)
                L[i][k] = 1.0 + (double)i / fn;
            else
                L[i][k] = 0.0;
        }
    for (int r = 0; r < nr; r++)
        for (int i = 0; i < n; i++)
            B[r][i] = (double)((r * i + r + 1) % n) / fn - 0.5;
}

static void kernel_trisolv(int n, int nr, double l[N][N], double b[R][N],
                           double x[R][N])
{
#pragma omp parallel for collapse(2)
    for (int r = 0; r < nr; r++)
        for (int i = 0; i < n; i++)
            x[r][i] = b[r][i];

#pragma omp parallel for schedule(static)
    for (int r = 0; r < nr; r++)
        for (int i = 0; i < n; i++) {
            double s = x[r][i];
            for (int k = 0; k < i; k++)
                s -= l[i][k] * x[r][k];
            x[r][i] = s / l[i][i];
        }
}

int main(void)
{
    init_array(N, R);

    AUTOTUNE_REGION_BEGIN(kernel);
    kernel_trisolv(N, R, L, B, X);
    AUTOTUNE_REGION_END(kernel);

    double sum = 0.0, wsum = 0.0;
    for (int r = 0; r < R; r++)
        for (int i = 0; i < N; i++) {
            sum += X[r][i];
            wsum += (double)(((long)r * N + i + 1) % 7) * X[r][i];
        }
    printf("trisolv X sum %.12e\n", sum);
    printf("trisolv X wsum %.12e\n", wsum);
    return 0;
}
