/* gemm.c: general matrix-matrix multiply, C := alpha*A*B + beta*C,
 * with A of NI x NK, B of NK x NJ and C of NI x NJ (double).
 *
 * Sizes (NI x NJ x NK):  MINI 100x110x120,  SMALL 480x500x520,
 *                        MEDIUM 1100x1200x1300 (default),
 *                        LARGE 1600x1700x1800.
 * Each of NI, NJ, NK can be overridden with -DNI=... etc.
 *
 * OpenMP / loop features:
 *   - perfectly nested rectangular depth-2 scale loop with
 *     `parallel for collapse(2) schedule(static)`;
 *   - perfectly nested rectangular depth-3 multiply nest in i-k-j order
 *     with a plain `parallel for` on the outer loop;
 *   - loop counters declared in the for statements; static global arrays.
 * Every C[i][j] is produced by one thread with k in increasing order, so the
 * output does not depend on the thread count or the schedule.
 */
#include <stdio.h>
#include <autotune.h>

#if defined(MINI_DATASET)
#  define DEF_NI 100
#  define DEF_NJ 110
#  define DEF_NK 120
#elif defined(SMALL_DATASET)
#  define DEF_NI 480
#  define DEF_NJ 500
#  define DEF_NK 520
#elif defined(LARGE_DATASET)
#  define DEF_NI 1600
#  define DEF_NJ 1700
#  define DEF_NK 1800
#else /* MEDIUM_DATASET (default) */
#  define DEF_NI 1100
#  define DEF_NJ 1200
#  define DEF_NK 1300
#endif
#ifndef NI
#  define NI DEF_NI
#endif
#ifndef NJ
#  define NJ DEF_NJ
#endif
#ifndef NK
#  define NK DEF_NK
#endif

static double A[NI][NK];
static double B[NK][NJ];
static double C[NI][NJ];

static void init_array(int ni, int nj, int nk, double *alpha, double *beta)
{
    *alpha = 1.5;
    *beta = 1.2;
    for (int i = 0; i < ni; i++)
        for (int j = 0; j < nj; j++)
            C[i][j] = (double)((i * j + 1) % ni) / ni;
    for (int i = 0; i < ni; i++)
        for (int k = 0; k < nk; k++)
            A[i][k] = (double)((i * (k + 1)) % nk) / nk;
    for (int k = 0; k < nk; k++)
        for (int j = 0; j < nj; j++)
            B[k][j] = (double)((k * (j + 2)) % nj) / nj;
}

static void kernel_gemm(int ni, int nj, int nk, double alpha, double beta,
                        double c[NI][NJ], double a[NI][NK], double b[NK][NJ])
{
#pragma omp parallel for collapse(2) schedule(static)
    for (int i = 0; i < ni; i++)
        for (int j = 0; j < nj; j++)
            c[i][j] *= beta;

#pragma omp parallel for
    for (int i = 0; i < ni; i++)
        for (int k = 0; k < nk; k++)
            for (int j = 0; j < nj; j++)
                c[i][j] += alpha * a[i][k] * b[k][j];
}

static void print_checksum(const char *name, int n, int m, double x[n][m])
{
    double sum = 0.0, wsum = 0.0;
    for (int i = 0; i < n; i++)
        for (int j = 0; j < m; j++) {
            sum += x[i][j];
            wsum += (double)(((long)i * m + j + 1) % 7) * x[i][j];
        }
    printf("gemm %s sum %.12e\n", name, sum);
    printf("gemm %s wsum %.12e\n", name, wsum);
}

int main(void)
{
    double alpha, beta;
    init_array(NI, NJ, NK, &alpha, &beta);

    AUTOTUNE_REGION_BEGIN(kernel);
    kernel_gemm(NI, NJ, NK, alpha, beta, C, A, B);
    AUTOTUNE_REGION_END(kernel);

    print_checksum("C", NI, NJ, C);
    return 0;
}
