/* autotune_cuda.cuh: the host-side harness shared by the CUDA kernel programs under kernels/cuda/.
 *
 * Header-only C++17 (everything is `static inline` or in an anonymous namespace, so a program is one
 * translation unit with nothing to link); compile with `-I autotune/include`.
 *
 * Why it looks like this:
 *   - Deterministic inputs.  Every buffer is filled from splitmix64 exactly as autotune/gpu/clhost.c (the
 *     OpenCL host program) fills a `random SEED LO HI` buffer, so the inputs are bit-identical across
 *     builds, variants and machines, and every variant's output can be verified against the output of the
 *     untransformed program (the tuner compares the printed `out` lines; floats with a relative tolerance).
 *   - Time from CUDA events around the kernel launches only.  Start-up, the host-side fill, the copies and
 *     the printing are not what a tuning knob changes; at_timer brackets one launch with two events and the
 *     program reports the sum over its timed launches as one region line on stderr,
 *         @autotune region kernel <seconds>
 *     which the tuner sums (and strips before comparing outputs), as with autotune.h.
 *   - One-line errors with distinct exit codes, so the tuner can tell a broken variant from a missing device:
 *         @autotune error launch <cudaErrorName> (<the failing call>)   exit 4
 *         @autotune error no-device <reason>                             exit 5
 *   - Outputs printed as clhost prints them: `out <index> <type> <count> sum=<S> abs=<A>` then 32 evenly
 *     spaced elements, so a CUDA kernel's outputs are read by the same verification code.
 */
#ifndef AUTOTUNE_CUDA_CUH
#define AUTOTUNE_CUDA_CUH

#include <cuda_runtime.h>

#include <cmath>
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>

/* `AT_UNROLL(UNROLL)` before a loop is `#pragma unroll <the value of UNROLL>`.  A plain
 * `#pragma unroll UNROLL` does not work: nvcc does not macro-expand the pragma's argument and looks UNROLL
 * up as an identifier ("identifier "UNROLL" is undefined").  Here the argument is expanded first (it is
 * not an operand of # in AT_UNROLL), then stringized into _Pragma("unroll 4"). */
#define AT_PRAGMA_(text) _Pragma(#text)
#define AT_UNROLL(n) AT_PRAGMA_(unroll n)

/* Check a CUDA API call (or `cudaGetLastError()` right after a launch): on error, one line and exit 4. */
#define AT_CHECK(call)                                                                                  \
    do {                                                                                                \
        cudaError_t at_check_err_ = (call);                                                             \
        if (at_check_err_ != cudaSuccess) {                                                             \
            fprintf(stderr, "@autotune error launch %s (%s)\n", cudaGetErrorName(at_check_err_), #call); \
            fflush(stderr);                                                                             \
            exit(4);                                                                                    \
        }                                                                                               \
    } while (0)

/* Exit 5 with one line when there is no usable CUDA device (no driver, no GPU).  Call it first. */
static inline void at_require_device(void)
{
    int count = 0;
    cudaError_t e = cudaGetDeviceCount(&count);
    if (e != cudaSuccess || count == 0) {
        fprintf(stderr, "@autotune error no-device %s\n", e != cudaSuccess ? cudaGetErrorString(e) : "no CUDA device");
        fflush(stderr);
        exit(5);
    }
}

/* Host memory or exit 4 (one line), so the programs need no null checks. */
static inline void *at_host_alloc(size_t bytes)
{
    void *p = malloc(bytes ? bytes : 1);
    if (!p) {
        fprintf(stderr, "@autotune error launch host-out-of-memory (malloc %zu bytes)\n", bytes);
        fflush(stderr);
        exit(4);
    }
    return p;
}

/* splitmix64, as clhost.c: the i-th call returns the i-th output after SEED. */
static inline uint64_t at_splitmix64(uint64_t *state)
{
    uint64_t z = (*state += 0x9e3779b97f4a7c15ULL);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    return z ^ (z >> 31);
}

/* host[i] = lo + (hi - lo) * ((r >> 11) * 2^-53) with r the (i+1)-th splitmix64 output from SEED, computed
 * in double (the product goes through a volatile so it is never fused into an fma) and rounded to float. */
static inline void at_fill_random_float(float *host, size_t n, uint64_t seed, double lo, double hi)
{
    uint64_t state = seed;
    for (size_t i = 0; i < n; i++) {
        uint64_t r = at_splitmix64(&state);
        volatile double product = (hi - lo) * ((double)(r >> 11) * 0x1.0p-53);
        host[i] = (float)(product + lo);
    }
}

/* host[i] = lo + r % (hi - lo) with r as above (64-bit unsigned arithmetic, as clhost.c). */
static inline void at_fill_random_int(int *host, size_t n, uint64_t seed, long lo, long hi)
{
    uint64_t state = seed;
    for (size_t i = 0; i < n; i++) {
        uint64_t r = at_splitmix64(&state);
        host[i] = (int)((uint64_t)lo + r % (uint64_t)(hi - lo));
    }
}

namespace {

/* Two events around one launch on the default stream: start(); launch; seconds = stop(). */
struct at_timer {
    cudaEvent_t begin_, end_;
    at_timer()
    {
        AT_CHECK(cudaEventCreate(&begin_));
        AT_CHECK(cudaEventCreate(&end_));
    }
    ~at_timer()
    {
        cudaEventDestroy(begin_);
        cudaEventDestroy(end_);
    }
    at_timer(const at_timer &) = delete;
    at_timer &operator=(const at_timer &) = delete;
    void start() { AT_CHECK(cudaEventRecord(begin_)); }
    double stop()
    {
        AT_CHECK(cudaEventRecord(end_));
        AT_CHECK(cudaEventSynchronize(end_));
        float ms = 0.0f;
        AT_CHECK(cudaEventElapsedTime(&ms, begin_, end_));
        return (double)ms / 1000.0;
    }
};

} // namespace

/* The region line the tuner sums. */
static inline void at_region(const char *name, double seconds)
{
    fprintf(stderr, "@autotune region %s %.9e\n", name, seconds);
    fflush(stderr);
}

/* Index of the k-th of the (at most) 32 printed elements. */
static inline size_t at_sample_index(size_t k, size_t count)
{
    return count < 32 ? k : (size_t)((unsigned long long)k * count / 32);
}

/* `out <index> float <count> sum=<S> abs=<A>` (double sums, %.17g), then up to 32 elements (%.9g). */
static inline void at_print_float(int index, const float *host, size_t count)
{
    double sum = 0, asum = 0;
    for (size_t i = 0; i < count; i++) sum += (double)host[i], asum += fabs((double)host[i]);
    printf("out %d float %zu sum=%.17g abs=%.17g\n", index, count, sum, asum);
    size_t n = count < 32 ? count : 32;
    for (size_t k = 0; k < n; k++) {
        if (k) putchar(' ');
        printf("%.9g", (double)host[at_sample_index(k, count)]);
    }
    putchar('\n');
    fflush(stdout);
}

/* `out <index> int <count> sum=<S> abs=<A>` (wrapping 64-bit sums, as clhost.c), then up to 32 elements. */
static inline void at_print_int(int index, const int *host, size_t count)
{
    uint64_t sum = 0, asum = 0;
    for (size_t i = 0; i < count; i++) {
        uint64_t v = (uint64_t)(int64_t)host[i];
        sum += v, asum += host[i] < 0 ? 0 - v : v;
    }
    printf("out %d int %zu sum=%lld abs=%llu\n", index, count, (long long)sum, (unsigned long long)asum);
    size_t n = count < 32 ? count : 32;
    for (size_t k = 0; k < n; k++) {
        if (k) putchar(' ');
        printf("%d", host[at_sample_index(k, count)]);
    }
    putchar('\n');
    fflush(stdout);
}

#endif /* AUTOTUNE_CUDA_CUH */
