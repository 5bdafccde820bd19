/* autotune.h: region timer for programs tuned by autotune.
 *
 * Why: the whole-process wall time includes start-up, initialisation and
 * output, which a tuning knob rarely changes and which dilute the speedup of
 * the part that matters. Wrap the work you want tuned:
 *
 *     #include <autotune.h>
 *     ...
 *     AUTOTUNE_REGION_BEGIN(kernel);
 *     compute();
 *     AUTOTUNE_REGION_END(kernel);
 *
 * Each END writes one line to stderr:
 *
 *     @autotune region <name> <seconds>
 *
 * autotune sums every region line of a run; it strips them before comparing
 * outputs, so they never affect verification.
 * The header is self-contained (no library to link) and is valid C99/C11 and
 * C++; `autotune` adds its directory to the include path.
 */
#ifndef AUTOTUNE_H
#define AUTOTUNE_H

#include <stdio.h>
#include <time.h>

/* A monotonic clock in every language mode: POSIX clock_gettime where the
 * includes before us declared it (gnu modes, or _POSIX_C_SOURCE), else the
 * OpenMP wall clock, else C11 timespec_get, else C89 clock(). Strict -std=c99/-std=c11 hide
 * struct timespec and CLOCK_MONOTONIC unless a POSIX macro is defined. */
#if defined(CLOCK_MONOTONIC)
static inline double autotune_now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}
#elif defined(_OPENMP)
#include <omp.h>
static inline double autotune_now(void) { return omp_get_wtime(); }
#elif defined(TIME_UTC)
static inline double autotune_now(void)
{
    struct timespec ts;
    timespec_get(&ts, TIME_UTC);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}
#else /* strict C99 without OpenMP: processor time, fine for one thread */
static inline double autotune_now(void) { return (double)clock() / CLOCKS_PER_SEC; }
#endif

#define AUTOTUNE_REGION_BEGIN(name) \
    double autotune_region_start_##name = autotune_now()

#define AUTOTUNE_REGION_END(name)                                              \
    do {                                                                       \
        double autotune_region_elapsed_ =                                      \
            autotune_now() - autotune_region_start_##name;                     \
        fprintf(stderr, "@autotune region %s %.9f\n", #name,                   \
                autotune_region_elapsed_);                                     \
        fflush(stderr);                                                        \
    } while (0)

#endif /* AUTOTUNE_H */
