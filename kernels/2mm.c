/* 2mm.c: two chained matrix multiplications,
 *     tmp := alpha * A * B          (A: NI x NK, B: NK x NJ, tmp: NI x NJ)
 *     D   := beta * D + tmp * C     (C: NJ x NL, D: NI x NL)
 *
 * Sizes (NI x NJ x NK x NL):  MINI 80x90x100x110,  SMALL 300x320x340x360,
 *                             MEDIUM 640x680x720x760 (default),
 *                             LARGE 1000x1060x1120x1180.
 * Each dimension can be overridden with -DNI=... etc.
 *
 * OpenMP / loop features:
 *   - one `#pragma omp parallel` region holding two worksharing
 *     `#pragma omp for schedule(static)` loops (implicit barrier between);
 *   - first product in i-j-k order with a scalar accumulator (dot-product
 *     inner loop, strided access to B);
 *   - second product: scale loop plus i-j-l update (non-perfect nest);
 *   - arrays allocated with malloc as pointers to rows.
 * Each output element is computed by one thread in a fixed order.
 */
#include <stdio.h>
#include <stdlib.h>
#include <autotune.h>

#if defined(MINI_DATASET)
#  define DEF_NI 80
#  define DEF_NJ 90
#  define DEF_NK 100
#  define DEF_NL 110
#elif defined(SMALL_DATASET)
#  define DEF_NI 300
#  define DEF_NJ 320
#  define DEF_NK 340
#  define DEF_NL 360
#elif defined(LARGE_DATASET)
#  define DEF_NI 1000
#  define DEF_NJ 1060
#  define DEF_NK 1120
#  define DEF_NL 1180
#else /* MEDIUM_DATASET (default) */
#  define DEF_NI 640
#  define DEF_NJ 680
#  define DEF_NK 720
#  define DEF_NL 760
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
#ifndef NL
#  define NL DEF_NL
#endif

static void init_array(int ni, int nj, int nk, int nl, double *alpha,
                       double *beta, double A[ni][nk], double B[nk][nj],
                       double C[nj][nl], double D[ni][nl])
{
    *alpha = 1.25;
    *beta = 0.75;
    for (int i = 0; i < ni; i++)
        for (int k = 0; k < nk; k++)
            A[i][k] = (double)((i * k + 1) % ni) / ni;
    for (int k = 0; k < nk; k++)
        for (int j = 0; j < nj; j++)
            B[k][j] = (double)(k * (j + 1) % nj) / nj;
    for (int j = 0; j < nj; j++)
        for (int l = 0; l < nl; l++)
            C[j][l] = (double)((j * (l + 3) + 1) % nl) / nl;
    for (int i = 0; i < ni; i++)
        for (int l = 0; l < nl; l++)
            D[i][l] = (double)(i * (l + 2) % nk) / nk;
}

static void kernel_2mm(int ni, int nj, int nk, int nl, double alpha,
                       double beta, double tmp[ni][nj], double A[ni][nk],
                       double B[nk][nj], double C[nj][nl], double D[ni][nl])
{
#pragma omp parallel
    {
#pragma omp for schedule(static)
        for (int i = 0; i < ni; i++)
            for (int j = 0; j < nj; j++) {
                double s = 0.0;
                for (int k = 0; k < nk; k++)
                    s += A[i][k] * B[k][j];
                tmp[i][j] = alpha * s;
            }

#pragma omp for schedule(static)
        for (int i = 0; i < ni; i++) {
            for (int l = 0; l < nl; l++)
                D[i][l] *= beta;
            for (int j = 0; j < nj; j++)
                for (int l = 0; l < nl; l++)
                    D[i][l] += tmp[i][j] * C[j][l];
        }
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
    printf("2mm %s sum %.12e\n", name, sum);
    printf("2mm %s wsum %.12e\n", name, wsum);
}

int main(void)
{
    double alpha, beta;
    double (*tmp)[NJ] = malloc(sizeof(double[NI][NJ]));
    double (*A)[NK] = malloc(sizeof(double[NI][NK]));
    double (*B)[NJ] = malloc(sizeof(double[NK][NJ]));
    double (*C)[NL] = malloc(sizeof(double[NJ][NL]));
    double (*D)[NL] = malloc(sizeof(double[NI][NL]));
    if (!tmp || !A || !B || !C || !D) {
        fprintf(stderr, "2mm: out of memory\n");
        return 1;
    }

    init_array(NI, NJ, NK, NL, &alpha, &beta, A, B, C, D);

    AUTOTUNE_REGION_BEGIN(kernel);
    kernel_2mm(NI, NJ, NK, NL, alpha, beta, tmp, A, B, C, D);
    AUTOTUNE_REGION_END(kernel);

    print_checksum("tmp", NI, NJ, tmp);
    print_checksum("D", NI, NL, D);

    free(tmp);
    free(A);
    free(B);
    free(C);
    free(D);
    return 0;
}
