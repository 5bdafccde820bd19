/* 3mm.c: three matrix multiplications, G := (A*B) * (C*D):
 *     E := A * B   (A: NI x NK, B: NK x NJ, E: NI x NJ)
 *     F := C * D   (C: NJ x NM, D: NM x NL, F: NJ x NL)
 *     G := E * F   (G: NI x NL)
 *
 * Sizes (NI x NJ x NK x NL x NM):  MINI 60x70x80x90x100,
 *                                  SMALL 240x260x280x300x320,
 *                                  MEDIUM 560x600x640x680x720 (default),
 *                                  LARGE 960x1000x1040x1080x1120.
 * Each dimension can be overridden with -DNI=... etc.
 *
 * OpenMP / loop features:
 *   - E: i-j-k dot-product nest with `parallel for collapse(2)
 *     schedule(dynamic, 8)`;
 *   - F: loop counters declared at function top, `parallel for
 *     private(j, k) schedule(static)`, zero-fill plus i-k-j update;
 *   - G: separate perfectly nested zero-fill (depth 2) and perfectly nested
 *     i-k-j multiply (depth 3), `schedule(static, 16)`;
 *   - static global arrays.
 * Each output element is computed by one thread in a fixed order.
 */
#include <stdio.h>
#include <autotune.h>

#if defined(MINI_DATASET)
#  define DEF_NI 60
#  define DEF_NJ 70
#  define DEF_NK 80
#  define DEF_NL 90
#  define DEF_NM 100
#elif defined(SMALL_DATASET)
#  define DEF_NI 240
#  define DEF_NJ 260
#  define DEF_NK 280
#  define DEF_NL 300
#  define DEF_NM 320
#elif defined(LARGE_DATASET)
#  define DEF_NI 960
#  define DEF_NJ 1000
#  define DEF_NK 1040
#  define DEF_NL 1080
#  define DEF_NM 1120
#else /* MEDIUM_DATASET (default) */
#  define DEF_NI 560
#  define DEF_NJ 600
#  define DEF_NK 640
#  define DEF_NL 680
#  define DEF_NM 720
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
#ifndef NM
#  define NM DEF_NM
#endif

static double A[NI][NK];
static double B[NK][NJ];
static double C[NJ][NM];
static double D[NM][NL];
static double E[NI][NJ];
static double F[NJ][NL];
static double G[NI][NL];

static void init_array(int ni, int nj, int nk, int nl, int nm)
{
    for (int i = 0; i < ni; i++)
        for (int k = 0; k < nk; k++)
            A[i][k] = (double)((i * k + 1) % ni) / (5 * ni);
    for (int k = 0; k < nk; k++)
        for (int j = 0; j < nj; j++)
            B[k][j] = (double)((k * (j + 1) + 2) % nj) / (5 * nj);
    for (int j = 0; j < nj; j++)
        for (int m = 0; m < nm; m++)
            C[j][m] = (double)(j * (m + 3) % nl) / (5 * nl);
    for (int m = 0; m < nm; m++)
        for (int l = 0; l < nl; l++)
            D[m][l] = (double)((m * (l + 2) + 2) % nk) / (5 * nk);
}

static void kernel_3mm(int ni, int nj, int nk, int nl, int nm,
                       double e[NI][NJ], double a[NI][NK], double b[NK][NJ],
                       double f[NJ][NL], double c[NJ][NM], double d[NM][NL],
                       double g[NI][NL])
{
    int i, j, k;

    /* E := A * B */
#pragma omp parallel for collapse(2) schedule(dynamic, 8)
    for (int ii = 0; ii < ni; ii++)
        for (int jj = 0; jj < nj; jj++) {
            double s = 0.0;
            for (int kk = 0; kk < nk; kk++)
                s += a[ii][kk] * b[kk][jj];
            e[ii][jj] = s;
        }

    /* F := C * D */
#pragma omp parallel for private(j, k) schedule(static)
    for (i = 0; i < nj; i++) {
        for (j = 0; j < nl; j++)
            f[i][j] = 0.0;
        for (k = 0; k < nm; k++)
            for (j = 0; j < nl; j++)
                f[i][j] += c[i][k] * d[k][j];
    }

    /* G := E * F */
#pragma omp parallel for schedule(static, 16)
    for (int ii = 0; ii < ni; ii++)
        for (int ll = 0; ll < nl; ll++)
            g[ii][ll] = 0.0;

#pragma omp parallel for schedule(static, 16)
    for (int ii = 0; ii < ni; ii++)
        for (int kk = 0; kk < nj; kk++)
            for (int ll = 0; ll < nl; ll++)
                g[ii][ll] += e[ii][kk] * f[kk][ll];
}

static void print_checksum(const char *name, int n, int m, double x[n][m])
{
    double sum = 0.0, wsum = 0.0;
    for (int i = 0; i < n; i++)
        for (int j = 0; j < m; j++) {
            sum += x[i][j];
            wsum += (double)(((long)i * m + j + 1) % 7) * x[i][j];
        }
    printf("3mm %s sum %.12e\n", name, sum);
    printf("3mm %s wsum %.12e\n", name, wsum);
}

int main(void)
{
    init_array(NI, NJ, NK, NL, NM);

    AUTOTUNE_REGION_BEGIN(kernel);
    kernel_3mm(NI, NJ, NK, NL, NM, E, A, B, F, C, D, G);
    AUTOTUNE_REGION_END(kernel);

    print_checksum("E", NI, NJ, E);
    print_checksum("F", NJ, NL, F);
    print_checksum("G", NI, NL, G);
    return 0;
}
