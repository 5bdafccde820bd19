/* mvt.c: matrix-vector product and transposed product, iterated:
 * for t in 0..TSTEPS-1:
 *     x1 := x1 + A * y1,      x2 := x2 + A^T * y2,
 *     y1 := x2 / (1 + |x2|),  y2 := x1 / (1 + |x1|)   (element-wise)
 * A is N x N; all vectors have N entries.
 *
 * Sizes (N, TSTEPS):  MINI 150, 4;  SMALL 600, 30;  MEDIUM 2000, 22
 *                     (default);  LARGE 4000, 30.
 * Override with -DN=... -DTSTEPS=...
 *
 * OpenMP / loop features:
 *   - loop counters i, j declared at function top with `private(j)`;
 *   - x1: row-wise accumulation, `schedule(static)`;
 *   - x2: column-wise accumulation with strided A[j][i] accesses,
 *     `schedule(dynamic, 8)` (an interchange/tiling candidate);
 *   - element-wise bounded update of y1, y2 (no reductions at all);
 *   - arrays allocated with malloc.
 * Every vector element is computed by one thread in a fixed order.
 */
#include <stdio.h>
#include <stdlib.h>
#include <math.h>
#include <autotune.h>

#if defined(MINI_DATASET)
#  define DEF_N 150
#  define DEF_TSTEPS 4
#elif defined(SMALL_DATASET)
#  define DEF_N 600
#  define DEF_TSTEPS 30
#elif defined(LARGE_DATASET)
#  define DEF_N 4000
#  define DEF_TSTEPS 30
#else /* MEDIUM_DATASET (default) */
#  define DEF_N 2000
#  define DEF_TSTEPS 22
#endif
#ifndef N
#  define N DEF_N
#endif
#ifndef TSTEPS
#  define TSTEPS DEF_TSTEPS
#endif

static void init_array(int n, double *x1, double *x2, double *y1, double *y2,
                       double A[n][n])
{
    for (int i = 0; i < n; i++) {
        x1[i] = (double)(i % n) / n;
        x2[i] = (double)((i + 1) % n) / n;
        y1[i] = (double)((i + 3) % n) / n;
        y2[i] = (double)((i + 4) % n) / n - 0.5;
        for (int j = 0; j < n; j++)
            A[i][j] = (double)(i * j % n) / n - 0.25;
    }
}

static void kernel_mvt(int tsteps, int n, double *x1, double *x2,
                       double *y1, double *y2, double A[n][n])
{
    int i, j;

    for (int t = 0; t < tsteps; t++) {
#pragma omp parallel for private(j) schedule(static)
        for (i = 0; i < n; i++)
            for (j = 0; j < n; j++)
                x1[i] = x1[i] + A[i][j] * y1[j];

#pragma omp parallel for private(j) schedule(dynamic, 8)
        for (i = 0; i < n; i++)
            for (j = 0; j < n; j++)
                x2[i] = x2[i] + A[j][i] * y2[j];

#pragma omp parallel for
        for (i = 0; i < n; i++) {
            y1[i] = x2[i] / (1.0 + fabs(x2[i]));
            y2[i] = x1[i] / (1.0 + fabs(x1[i]));
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
    printf("mvt %s sum %.12e\n", name, sum);
    printf("mvt %s wsum %.12e\n", name, wsum);
}

int main(void)
{
    double *x1 = malloc(sizeof(double) * N);
    double *x2 = malloc(sizeof(double) * N);
    double *y1 = malloc(sizeof(double) * N);
    double *y2 = malloc(sizeof(double) * N);
    double (*A)[N] = malloc(sizeof(double[N][N]));
    if (!x1 || !x2 || !y1 || !y2 || !A) {
        fprintf(stderr, "mvt: out of memory\n");
        return 1;
    }

    init_array(N, x1, x2, y1, y2, A);

    AUTOTUNE_REGION_BEGIN(kernel);
    kernel_mvt(TSTEPS, N, x1, x2, y1, y2, A);
    AUTOTUNE_REGION_END(kernel);

    print_vector("x1", N, x1);
    print_vector("x2", N, x2);

    free(x1);
    free(x2);
    free(y1);
    free(y2);
    free(A);
    return 0;
}
