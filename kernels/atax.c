/* atax.c: repeated A^T * (A * x) with max-norm scaling (a power iteration
 * on A^T A):  for t in 0..TSTEPS-1:
 *     tmp := A * x,   y := A^T * tmp,   x := y / max_j |y[j]|
 * A is M x N; x, y have N entries, tmp has M entries.
 *
 * Sizes (M x N, TSTEPS):  MINI 120x140, 4;  SMALL 500x560, 25;
 *                         MEDIUM 1800x2000, 30 (default);
 *                         LARGE 3600x4000, 40.
 * Override with -DM=... -DN=... -DTSTEPS=...
 *
 * OpenMP / loop features:
 *   - time loop outside, several `parallel for` loops per step;
 *   - row-wise matrix-vector product (contiguous dot product);
 *   - transposed product parallelised over columns j with the i loop
 *     innermost (strided accesses A[i][j], an interchange/tiling candidate),
 *     `schedule(static)`;
 *   - `reduction(max: nrm)` (exact, so the result is thread-independent)
 *     and an element-wise scaling loop;
 *   - static global arrays.
 * Every vector element is computed by one thread in a fixed order.
 */
#include <stdio.h>
#include <math.h>
#include <autotune.h>

#if defined(MINI_DATASET)
#  define DEF_M 120
#  define DEF_N 140
#  define DEF_TSTEPS 4
#elif defined(SMALL_DATASET)
#  define DEF_M 500
#  define DEF_N 560
#  define DEF_TSTEPS 25
#elif defined(LARGE_DATASET)
#  define DEF_M 3600
#  define DEF_N 4000
#  define DEF_TSTEPS 40
#else /* MEDIUM_DATASET (default) */
#  define DEF_M 1800
#  define DEF_N 2000
#  define DEF_TSTEPS 30
#endif
#ifndef M
#  define M DEF_M
#endif
#ifndef N
#  define N DEF_N
#endif
#ifndef TSTEPS
#  define TSTEPS DEF_TSTEPS
#endif

static double A[M][N];
static double x[N];
static double y[N];
static double tmp[M];

static void init_array(int m, int n)
{
    for (int j = 0; j < n; j++)
        x[j] = 1.0 + (double)j / n;
    for (int i = 0; i < m; i++)
        for (int j = 0; j < n; j++)
            A[i][j] = (double)((i + j) % n) / (5 * m);
}

static void kernel_atax(int tsteps, int m, int n, double a[M][N],
                        double xv[N], double yv[N], double t_[M])
{
    for (int t = 0; t < tsteps; t++) {
#pragma omp parallel for
        for (int i = 0; i < m; i++) {
            double s = 0.0;
            for (int j = 0; j < n; j++)
                s += a[i][j] * xv[j];
            t_[i] = s;
        }

#pragma omp parallel for schedule(static)
        for (int j = 0; j < n; j++) {
            double s = 0.0;
            for (int i = 0; i < m; i++)
                s += a[i][j] * t_[i];
            yv[j] = s;
        }

        double nrm = 0.0;
#pragma omp parallel for reduction(max: nrm)
        for (int j = 0; j < n; j++)
            nrm = fmax(nrm, fabs(yv[j]));
        if (nrm == 0.0)
            nrm = 1.0;

        double inv = 1.0 / nrm;
#pragma omp parallel for
        for (int j = 0; j < n; j++)
            xv[j] = yv[j] * inv;
    }
}

static void print_vector(const char *name, int n, double *v)
{
    double sum = 0.0, wsum = 0.0;
    for (int i = 0; i < n; i++) {
        sum += v[i];
        wsum += (double)((i + 1) % 7) * v[i];
    }
    printf("atax %s sum %.12e\n", name, sum);
    printf("atax %s wsum %.12e\n", name, wsum);
}

int main(void)
{
    init_array(M, N);

    AUTOTUNE_REGION_BEGIN(kernel);
    kernel_atax(TSTEPS, M, N, A, x, y, tmp);
    AUTOTUNE_REGION_END(kernel);

    print_vector("y", N, y);
    print_vector("x", N, x);
    print_vector("tmp", M, tmp);
    return 0;
}
