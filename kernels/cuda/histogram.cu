/*
 * histogram.cu -- NBINS (256) bin counts of NELEM pseudo-random ints in [0, 256).
 *
 * Grid of ceil(NELEM / (BLOCK*CF)) blocks of BLOCK threads; each block builds a private histogram in
 * shared memory (shared atomicAdd), then adds its nonzero bins to the global one (global atomicAdd).
 * Each thread counts CF elements: block b's thread t takes b*BLOCK*CF + t + c*BLOCK, c = 0..CF-1 (strided
 * by BLOCK: coalesced at every step).  UNROLL unrolls the loop over the CF elements.
 * Integer counts: the output is exact whatever BLOCK/CF/UNROLL and the order of the atomics.
 * The kernel accumulates into the global histogram, so it is zeroed before every launch (untimed).
 *
 * Sizes (NELEM): SMALL 10000019   MEDIUM 100000007 (0.4 GB)   LARGE 500000003 (2 GB)
 * Input: uniform ints in [0, 256) (splitmix64 seed 9).  Output: the 256 counts.
 */
#include "autotune_cuda.cuh"

#if defined(SMALL_DATASET)
#define NELEM 10000019
#elif defined(LARGE_DATASET)
#define NELEM 500000003
#else /* MEDIUM */
#define NELEM 100000007
#endif
#define NBINS 256

// @autotune param BLOCK 64 128 256 512 1024
#ifndef BLOCK
#define BLOCK 256
#endif
// @autotune param CF 1 2 4 8
#ifndef CF
#define CF 1
#endif
// @autotune param UNROLL 1 2 4 8
#ifndef UNROLL
#define UNROLL 1
#endif

#ifndef REPEAT
#define REPEAT 5
#endif

__global__ void __launch_bounds__(BLOCK) histogram(const int *__restrict__ in, int *__restrict__ bins, int n)
{
    __shared__ int local[NBINS];
    const int tid = threadIdx.x;
    for (int b = tid; b < NBINS; b += BLOCK) local[b] = 0;
    __syncthreads();
    const long long first = (long long)blockIdx.x * (BLOCK * CF) + tid;
    AT_UNROLL(UNROLL)
    for (int c = 0; c < CF; ++c) {
        const long long i = first + (long long)c * BLOCK;
        if (i < n) atomicAdd(&local[in[i] & (NBINS - 1)], 1); /* values are in [0, 256); the mask only guards */
    }
    __syncthreads();
    for (int b = tid; b < NBINS; b += BLOCK) {
        const int v = local[b];
        if (v) atomicAdd(&bins[b], v);
    }
}

int main(void)
{
    at_require_device();
    const size_t count = (size_t)NELEM;
    int *hin = (int *)at_host_alloc(count * sizeof(int));
    int *hbins = (int *)at_host_alloc(NBINS * sizeof(int));
    at_fill_random_int(hin, count, 9, 0, NBINS);

    int *din, *dbins;
    AT_CHECK(cudaMalloc(&din, count * sizeof(int)));
    AT_CHECK(cudaMalloc(&dbins, NBINS * sizeof(int)));
    AT_CHECK(cudaMemcpy(din, hin, count * sizeof(int), cudaMemcpyHostToDevice));

    const dim3 block(BLOCK);
    const dim3 grid((unsigned)(((long long)NELEM + (long long)BLOCK * CF - 1) / ((long long)BLOCK * CF)));

    /* Warm-up (untimed), on zeroed bins. */
    AT_CHECK(cudaMemset(dbins, 0, NBINS * sizeof(int)));
    histogram<<<grid, block>>>(din, dbins, NELEM);
    AT_CHECK(cudaGetLastError());
    AT_CHECK(cudaDeviceSynchronize());

    double total = 0.0;
    {
        at_timer timer;
        for (int r = 0; r < REPEAT; ++r) {
            AT_CHECK(cudaMemset(dbins, 0, NBINS * sizeof(int)));
            timer.start();
            histogram<<<grid, block>>>(din, dbins, NELEM);
            AT_CHECK(cudaGetLastError());
            total += timer.stop();
        }
    }
    AT_CHECK(cudaMemcpy(hbins, dbins, NBINS * sizeof(int), cudaMemcpyDeviceToHost));
    at_region("kernel", total);
    at_print_int(0, hbins, NBINS);

    AT_CHECK(cudaFree(din));
    AT_CHECK(cudaFree(dbins));
    free(hin);
    free(hbins);
    return 0;
}
