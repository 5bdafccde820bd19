/*
 * fdtd-2d.c -- 2-D finite-difference time-domain (Yee) electromagnetic kernel.
 *
 * For TMAX time steps: set the source row ey[0][*] = fict[t], update ey from
 * hz along i, ex from hz along j, then hz from ex and ey (PolyBench-like),
 * on NX x NY arrays of doubles (non-square on purpose).
 *
 * Sizes (TMAX, NX, NY):  MINI (10, 20, 30)   SMALL (60, 300, 350)
 *                        MEDIUM (80, 1000, 1200)   LARGE (150, 2000, 2400)
 *
 * OpenMP / loop features: kernel in a separate function called from main;
 * inside the time loop four work-sharing loops in different styles:
 * `parallel for schedule(static)` on a 1-D loop, `parallel for
 * schedule(static)` on a depth-2 nest starting at i = 1, `parallel for
 * collapse(2)` on a perfect depth-2 nest, and `parallel for schedule(guided)`
 * on a nest with trimmed (n-1) bounds.
 * Output is independent of thread count (each element written by one thread).
 */
#include <stdio.h>
#include <stdlib.h>
#include <autotune.h>

#if !defined(MINI_DATASET) && !defined(SMALL_DATASET) && \
    !defined(MEDIUM_DATASET) && !defined(LARGE_DATASET)
#define MEDIUM_DATASET
#endif

#if defined(MINI_DATASET)
# ifndef TMAX
#  define TMAX 10
# endif
# ifndef NX
#  define NX 20
# endif
# ifndef NY
#  define NY 30
# endif
#elif defined(SMALL_DATASET)
# ifndef TMAX
#  define TMAX 60
# endif
# ifndef NX
#  define NX 300
# endif
# ifndef NY
#  define NY 350
# endif
#elif defined(MEDIUM_DATASET)
# ifndef TMAX
#  define TMAX 80
# endif
# ifndef NX
#  define NX 1000
# endif
# ifndef NY
#  define NY 1200
# endif
#else /* LARGE_DATASET */
# ifndef TMAX
#  define TMAX 150
# endif
# ifndef NX
#  define NX 2000
# endif
# ifndef NY
#  define NY 2400
# endif
#endif

static double ex[NX][NY];
static double ey[NX][NY];
static double hz[NX][NY];
static double fict[TMAX];

static void init_array(int tmax, int nx, int ny)
{
    for (int t = 0; t < tmax; t++)
        fict[t] = (double)t;
    for (int i = 0; i < nx; i++)
        for (int j = 0; j < ny; j++) {
            ex[i][j] = ((double)i * (double)(j + 1)) / (double)nx;
            ey[i][j] = ((double)i * (double)(j + 2)) / (double)ny;
            hz[i][j] = ((double)i * (double)(j + 3)) / (double)nx;
        }
}

static void kernel_fdtd_2d(int tmax, int nx, int ny)
{
    for (int t = 0; t < tmax; t++) {
#pragma omp parallel for schedule(static)
        for (int j = 0; j < ny; j++)
            ey[0][j] = fict[t];
#pragma omp parallel for schedule(static)
        for (int i = 1; i < nx; i++)
            for (int j = 0; j < ny; j++)
                ey[i][j] = ey[i][j] - 0.5 * (hz[i][j] - hz[i - 1][j]);
#pragma omp parallel for collapse(2)
        for (int i = 0; i < nx; i++)
            for (int j = 1; j < ny; j++)
                ex[i][j] = ex[i][j] - 0.5 * (hz[i][j] - hz[i][j - 1]);
#pragma omp parallel for schedule(guided)
        for (int i = 0; i < nx - 1; i++)
            for (int j = 0; j < ny - 1; j++)
                hz[i][j] = hz[i][j] - 0.7 * (ex[i][j + 1] - ex[i][j] +
                                             ey[i + 1][j] - ey[i][j]);
    }
}

static void checksum(const char *name, int nx, int ny, double a[NX][NY])
{
    double sum = 0.0, wsum = 0.0;
    for (int i = 0; i < nx; i++)
        for (int j = 0; j < ny; j++) {
            long idx = (long)i * ny + j;
            sum += a[i][j];
            wsum += a[i][j] * (double)(idx % 97 + 1);
        }
    printf("fdtd-2d %s sum %.12e\n", name, sum);
    printf("fdtd-2d %s wsum %.12e\n", name, wsum);
}

int main(void)
{
    init_array(TMAX, NX, NY);

    AUTOTUNE_REGION_BEGIN(kernel);
    kernel_fdtd_2d(TMAX, NX, NY);
    AUTOTUNE_REGION_END(kernel);

    checksum("ex", NX, NY, ex);
    checksum("ey", NX, NY, ey);
    checksum("hz", NX, NY, hz);
    return 0;
}
