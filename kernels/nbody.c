/*
 * nbody.c -- all-pairs gravitational n-body simulation.
 *
 * NBODIES bodies, STEPS time steps of: compute every body's acceleration by
 * summing softened 1/r^2 forces from all bodies (O(n^2)), then a
 * semi-implicit Euler update of velocities and positions.  Initial positions,
 * velocities and masses come from a hand-written integer hash.
 *
 * Sizes (NBODIES, STEPS):  MINI (256, 2)   SMALL (1024, 4)
 *                          MEDIUM (3000, 8)   LARGE (8000, 10)
 *
 * OpenMP / loop features: kernels in separate functions called from main
 * inside the time loop; the force loop is `#pragma omp parallel for
 * schedule(static)` over bodies with an innermost loop that is a
 * floating-point reduction into private scalars (sqrt and division inside);
 * the update is a plain `#pragma omp parallel for`.  Each body's
 * acceleration is summed by one thread in fixed j order, so the output does
 * not depend on the thread count or schedule.
 */
#include <stdio.h>
#include <stdlib.h>
#include <stdint.h>
#include <math.h>
#include <autotune.h>

#if !defined(MINI_DATASET) && !defined(SMALL_DATASET) && \
    !defined(MEDIUM_DATASET) && !defined(LARGE_DATASET)
#define MEDIUM_DATASET
#endif

#if defined(MINI_DATASET)
# ifndef NBODIES
#  define NBODIES 256
# endif
# ifndef STEPS
#  define STEPS 2
# endif
#elif defined(SMALL_DATASET)
# ifndef NBODIES
#  define NBODIES 1024
# endif
# ifndef STEPS
#  define STEPS 4
# endif
#elif defined(MEDIUM_DATASET)
# ifndef NBODIES
#  define NBODIES 3000
# endif
# ifndef STEPS
#  define STEPS 8
# endif
#else /* LARGE_DATASET */
# ifndef NBODIES
#  define NBODIES 8000
# endif
# ifndef STEPS
#  define STEPS 10
# endif
#endif

#define SOFTENING2 1e-4
#define DT 1e-3

static double px[NBODIES], py[NBODIES], pz[NBODIES];
static double vx[NBODIES], vy[NBODIES], vz[NBODIES];
static double ax[NBODIES], ay[NBODIES], az[NBODIES];
static double mass[NBODIES];

static uint32_t hash32(uint32_t h)
{
    h ^= h >> 16;
    h *= 0x7feb352du;
    h ^= h >> 15;
    h *= 0x846ca68bu;
    h ^= h >> 16;
    return h;
}

/* deterministic value in [-0.5, 0.5) */
static double unit(uint32_t i, uint32_t salt)
{
    return (double)(hash32(i * 8u + salt) % 1000000u) / 1000000.0 - 0.5;
}

static void init_bodies(int n)
{
    for (int i = 0; i < n; i++) {
        px[i] = unit((uint32_t)i, 1);
        py[i] = unit((uint32_t)i, 2);
        pz[i] = unit((uint32_t)i, 3);
        vx[i] = 0.1 * unit((uint32_t)i, 4);
        vy[i] = 0.1 * unit((uint32_t)i, 5);
        vz[i] = 0.1 * unit((uint32_t)i, 6);
        mass[i] = (1.0 + (double)(hash32((uint32_t)i * 8u + 7u) % 1000u) / 1000.0) / (double)n;
    }
}

static void compute_accelerations(int n)
{
#pragma omp parallel for schedule(static)
    for (int i = 0; i < n; i++) {
        double xi = px[i], yi = py[i], zi = pz[i];
        double axi = 0.0, ayi = 0.0, azi = 0.0;
        for (int j = 0; j < n; j++) {
            double dx = px[j] - xi;
            double dy = py[j] - yi;
            double dz = pz[j] - zi;
            double r2 = dx * dx + dy * dy + dz * dz + SOFTENING2;
            double inv = 1.0 / sqrt(r2);
            double s = mass[j] * inv * inv * inv;
            axi += s * dx;
            ayi += s * dy;
            azi += s * dz;
        }
        ax[i] = axi;
        ay[i] = ayi;
        az[i] = azi;
    }
}

static void advance(int n, double dt)
{
#pragma omp parallel for
    for (int i = 0; i < n; i++) {
        vx[i] += dt * ax[i];
        vy[i] += dt * ay[i];
        vz[i] += dt * az[i];
        px[i] += dt * vx[i];
        py[i] += dt * vy[i];
        pz[i] += dt * vz[i];
    }
}

static void checksum(const char *name, int n, const double *a)
{
    double sum = 0.0, wsum = 0.0;
    for (int i = 0; i < n; i++) {
        sum += a[i];
        wsum += a[i] * (double)(i % 97 + 1);
    }
    printf("nbody %s sum %.12e\n", name, sum);
    printf("nbody %s wsum %.12e\n", name, wsum);
}

int main(void)
{
    init_bodies(NBODIES);

    AUTOTUNE_REGION_BEGIN(kernel);
    for (int s = 0; s < STEPS; s++) {
        compute_accelerations(NBODIES);
        advance(NBODIES, DT);
    }
    AUTOTUNE_REGION_END(kernel);

    checksum("px", NBODIES, px);
    checksum("py", NBODIES, py);
    checksum("pz", NBODIES, pz);
    checksum("vx", NBODIES, vx);
    return 0;
}
