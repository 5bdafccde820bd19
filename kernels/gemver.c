/* gemver.c: rank-2 update followed by two matrix-vector products, iterated:
 * for t in 0..TSTEPS-1:
 *     A := A + u1 * v1^T + u2 * v2^T
 *     x := x + beta * A^T * y + z
 *     w := w + alpha * A * x
 * A is N x N; all vectors have N entries.
 *
 * Sizes (N, TSTEPS):  MINI 150, 3;  SMALL 600, 12;  MEDIUM 2000, 16
 *                     (default);  LARGE 4000, 25.
 * Override with -DN=... -DTSTEPS=...
 *
 * OpenMP / loop features:
 *   - perfectly nested rectangular rank-2 update with
 *     `parallel for collapse(2) schedule(static)`;
 *   - transposed product with strided A[j][i] accesses and
 *     `firstprivate(beta)`;
 *   - row-wise product with `schedule(runtime)` (OMP_SCHEDULE applies);
 *   - static global arrays.
 * Every element is computed by one thread in a fixed order.
 */
#include <stdio.h>
#include <autotune.h>

#if defined(MINI_DATASET)
#  define DEF_N 150
#  define DEF_TSTEPS 3
#elif defined(SMALL_DATASET)
#  define DEF_N 600
#  define DEF_TSTEPS 12
#elif defined(LARGE_DATASET)
#  define DEF_N 4000
#  define DEF_TSTEPS 25
#else /* MEDIUM_DATASET (default) */
#  define DEF_N 2000
#  define DEF_TSTEPS 16
#endif
#ifndef N
#  define N DEF_N
#endif
#ifndef TSTEPS
#  define TSTEPS DEF_TSTEPS
#endif

static double A[N][N];
static double u1[N], v1[N], u2[N], v2[N];
static double w[N], x[N], y[N], z[N];

static void init_array(int n, double *alpha, double *beta)
{
    double fn = (double)n;
    *alpha = 1.5 / fn;
    *beta = 1.2 / fn;
    for (int i = 0; i < n; i++) {
        u1[i] = (double)i / fn / fn;
        u2[i] = ((double)(i + 1) / fn) / 2.0 / fn;
        v1[i] = ((double)(i + 1) / fn) / 4.0;
        v2[i] = ((double)(i + 1) / fn) / 6.0;
        y[i] = ((double)(i + 1) / fn) / 8.0;
        z[i] = ((double)(i + 1) / fn) / 9.0;
        x[i] = 0.0;
        w[i] = 0.0;
        for (int j = 0; j < n; j++)
            A[i][j] = (double)(i * j % n) / fn;
    }
}

static void kernel_gemver(int tsteps, int n, double alpha, double beta,
                          double a[N][N])
{
    for (int t = 0; t < tsteps; t++) {
#pragma omp parallel for collapse(2) schedule(static)
        for (int i = 0; i < n; i++)
            for (int j = 0; j < n; j++)
                a[i][j] = a[i][j] + u1[i] * v1[j] + u2[i] * v2[j];

#pragma omp parallel for firstprivate(beta)
        for (int i = 0; i < n; i++) {
            double s = x[i];
            for (int j = 0; j < n; j++)
                s = s + beta * a[j][i] * y[j];
            x[i] = s + z[i];
        }

#pragma omp parallel for schedule(runtime)
        for (int i = 0; i < n; i++) {
            double s = w[i];
            for (int j = 0; j < n; j++)
                s = s + alpha * a[i][j] * x[j];
            w[i] = s;
        }
    }
}

static void print_vector(const char *name, int n, double *v)
{
    double sum = 0.0, wsum = 0.0;
    for (int i = 0; i < n; i++) {
        sum += v[i];
        wsum += (double)((i + 1) % 7) * v[i];
    }
    printf("gemver %s sum %.12e\n", name, sum);
    printf("gemver %s wsum %.12e\n", name, wsum);
}

int main(void)
{
    double alpha, beta;
    init_array(N, &alpha, &beta);

    AUTOTUNE_REGION_BEGIN(kernel);
    kernel_gemver(TSTEPS, N, alpha, beta, A);
    AUTOTUNE_REGION_END(kernel);

    print_vector("w", N, w);
    print_vector("x", N, x);

    /* matrix checksum */
    double sum = 0.0, wsum = 0.0;
    for (int i = 0; i < N; i++)
        for (int j = 0; j < N; j++) {
            sum += A[i][j];
            wsum += (double)(((long)i * N + j + 1) % 7) * A[i][j];
        }
    printf("gemver A sum %.12e\n", sum);
    printf("gemver A wsum %.12e\n", wsum);
    return 0;
}
