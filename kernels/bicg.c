/* bicg.c: the two matrix-vector products of the BiCG method, iterated:
 * for t in 0..TSTEPS-1:
 *     q := A * p,   s := A^T * r,
 *     r := q / max|q|,   p := s / max|s|
 * A is N x M; p, s have M entries; q, r have N entries.
 *
 * Sizes (N x M, TSTEPS):  MINI 130x110, 4;  SMALL 560x500, 35;
 *                         MEDIUM 2000x1800, 45 (default);
 *                         LARGE 4000x3600, 80.
 * Override with -DN=... -DM=... -DTSTEPS=...
 *
 * OpenMP / loop features:
 *   - a single `#pragma omp parallel` region around the time loop with
 *     worksharing `#pragma omp for` loops inside it and a
 *     `#pragma omp single` block for the (serial) max-norms;
 *   - q: row-wise dot products, `schedule(static)`;
 *   - s: column blocks of width JB distributed with `schedule(dynamic, 1)`,
 *     each block accumulated row by row (i outer, j inner), so the
 *     summation order of every s[j] is i = 0..N-1 whatever the schedule;
 *   - static global arrays.
 */
#include <stdio.h>
#include <math.h>
#include <autotune.h>

#if defined(MINI_DATASET)
#  define DEF_N 130
#  define DEF_M 110
#  define DEF_TSTEPS 4
#elif defined(SMALL_DATASET)
#  define DEF_N 560
#  define DEF_M 500
#  define DEF_TSTEPS 35
#elif defined(LARGE_DATASET)
#  define DEF_N 4000
#  define DEF_M 3600
#  define DEF_TSTEPS 80
#else /* MEDIUM_DATASET (default) */
#  define DEF_N 2000
#  define DEF_M 1800
#  define DEF_TSTEPS 45
#endif
#ifndef N
#  define N DEF_N
#endif
#ifndef M
#  define M DEF_M
#endif
#ifndef TSTEPS
#  define TSTEPS DEF_TSTEPS
#endif
#ifndef JB
#  define JB 64
#endif

static double A[N][M];
static double s[M];
static double q[N];
static double p[M];
static double r[N];

static void init_array(int n, int m)
{
    for (int j = 0; j < m; j++)
        p[j] = (double)(j % m) / m;
    for (int i = 0; i < n; i++) {
        r[i] = (double)(i % n) / n;
        for (int j = 0; j < m; j++)
            A[i][j] = (double)(i * (j + 1) % n) / n;
    }
}

static double max_abs(int n, const double *v)
{
    double mx = 0.0;
    for (int i = 0; i < n; i++)
        mx = fmax(mx, fabs(v[i]));
    return mx > 0.0 ? mx : 1.0;
}

static void kernel_bicg(int tsteps, int n, int m, double a[N][M],
                        double sv[M], double qv[N], double pv[M],
                        double rv[N])
{
    double invq = 1.0, invs = 1.0;
    int nblocks = (m + JB - 1) / JB;

#pragma omp parallel
    {
        for (int t = 0; t < tsteps; t++) {
#pragma omp for schedule(static)
            for (int i = 0; i < n; i++) {
                double acc = 0.0;
                for (int j = 0; j < m; j++)
                    acc += a[i][j] * pv[j];
                qv[i] = acc;
            }

#pragma omp for schedule(dynamic, 1)
            for (int jb = 0; jb < nblocks; jb++) {
                int j0 = jb * JB;
                int j1 = j0 + JB < m ? j0 + JB : m;
                for (int j = j0; j < j1; j++)
                    sv[j] = 0.0;
                for (int i = 0; i < n; i++)
                    for (int j = j0; j < j1; j++)
                        sv[j] += rv[i] * a[i][j];
            }

#pragma omp single
            {
                invq = 1.0 / max_abs(n, qv);
                invs = 1.0 / max_abs(m, sv);
            }

#pragma omp for schedule(static)
            for (int i = 0; i < n; i++)
                rv[i] = qv[i] * invq;

#pragma omp for schedule(static)
            for (int j = 0; j < m; j++)
                pv[j] = sv[j] * invs;
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
    printf("bicg %s sum %.12e\n", name, sum);
    printf("bicg %s wsum %.12e\n", name, wsum);
}

int main(void)
{
    init_array(N, M);

    AUTOTUNE_REGION_BEGIN(kernel);
    kernel_bicg(TSTEPS, N, M, A, s, q, p, r);
    AUTOTUNE_REGION_END(kernel);

    print_vector("s", M, s);
    print_vector("q", N, q);
    print_vector("p", M, p);
    print_vector("r", N, r);
    return 0;
}
