/* lu.c: in-place LU factorisation without pivoting, A = L * U, of a
 * diagonally dominant N x N matrix (unit lower L stored below the
 * diagonal, U on and above it). Right-looking (kij) variant:
 * for k: A[i][k] /= A[k][k] (i > k);  A[i][j] -= A[i][k]*A[k][j] (i,j > k).
 *
 * Sizes (N):  MINI 120,  SMALL 520,  MEDIUM 1400 (default),  LARGE 2200.
 * Override with -DN=...
 *
 * OpenMP / loop features:
 *   - one `#pragma omp parallel` region around the k loop; the work is
 *     shared by truly orphaned `#pragma omp for` loops in helper functions
 *     called from inside the region (implicit barriers order the steps);
 *   - column scaling with `schedule(static)`;
 *   - trailing update: a perfectly nested rectangular (i, j) nest whose
 *     bounds depend only on k, `schedule(dynamic, 8)`;
 *   - static global array.
 * Every element is updated by one thread per step, steps in fixed order.
 */
#include <stdio.h>
#include <autotune.h>

#if defined(MINI_DATASET)
#  define DEF_N 120
#elif defined(SMALL_DATASET)
#  define DEF_N 520
#elif defined(LARGE_DATASET)
#  define DEF_N 2200
#else /* MEDIUM_DATASET (default) */
#  define DEF_N 1400
#endif
#ifndef N
#  define N DEF_N
#endif

static double A[N][N];

static void init_array(int n)
{
    for (int i = 0; i < n; i++)
        for (int j = 0; j < n; j++) {
            A[i][j] = (double)((i * j + 1) % n) / n;
            if (i == j)
                A[i][j] += (double)n;
        }
}

/* Called inside a parallel region: orphaned worksharing loops. */
static void lu_scale_column(int n, int k, double a[N][N])
{
#pragma omp for schedule(static)
    for (int i = k + 1; i < n; i++)
        a[i][k] = a[i][k] / a[k][k];
}

static void lu_update_trailing(int n, int k, double a[N][N])
{
#pragma omp for schedule(dynamic, 8)
    for (int i = k + 1; i < n; i++)
        for (int j = k + 1; j < n; j++)
            a[i][j] = a[i][j] - a[i][k] * a[k][j];
}

static void kernel_lu(int n, double a[N][N])
{
#pragma omp parallel
    {
        for (int k = 0; k < n - 1; k++) {
            lu_scale_column(n, k, a);
            lu_update_trailing(n, k, a);
        }
    }
}

int main(void)
{
    init_array(N);

    AUTOTUNE_REGION_BEGIN(kernel);
    kernel_lu(N, A);
    AUTOTUNE_REGION_END(kernel);

    double sum = 0.0, wsum = 0.0, diag = 0.0;
    for (int i = 0; i < N; i++) {
        diag += A[i][i];
        for (int j = 0; j < N; j++) {
            sum += A[i][j];
            wsum += (double)(((long)i * N + j + 1) % 7) * A[i][j];
        }
    }
    printf("lu A sum %.12e\n", sum);
    printf("lu A wsum %.12e\n", wsum);
    printf("lu U diag sum %.12e\n", diag);
    return 0;
}
