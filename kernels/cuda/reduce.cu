/*
 * reduce.cu -- the sum of NELEM floats, printed as one float.
 *
 * Grid of ceil(NELEM / (BLOCK*CF)) blocks of BLOCK threads (T threads in all).  Thread t sums the CF
 * elements t + c*T, c = 0..CF-1 (strided by the grid, so every step of c is a coalesced sweep), the block
 * reduces its BLOCK partial sums in shared memory (a tree: BLOCK must be a power of two, as all declared
 * values are), and thread 0 adds the block's sum to the result with one atomicAdd.  UNROLL unrolls the
 * loop over the CF elements.
 *
 * The output varies slightly with BLOCK/CF/UNROLL and from run to run: the per-block float sums group the
 * elements differently, and the atomicAdds happen in any order.  The result is accumulated in a double on
 * the device (atomicAdd(double*), sm_60+) and rounded to float only when printed: with float atomics into a
 * total near 1e8 the rounding of ~1e6 block additions alone would reach ~1e-5 relative, the tuner's
 * tolerance; in double only the float block sums (a few ulp each, of either sign) differ, far below it.
 *
 * Sizes (NELEM): SMALL 20000003   MEDIUM 200000003 (0.8 GB)   LARGE 1000000007 (4 GB)
 * Input: uniform in [0, 1) (splitmix64 seed 4).  Output: 1 float.
 */
#include "autotune_cuda.cuh"

#if defined(SMALL_DATASET)
#define NELEM 20000003LL
#elif defined(LARGE_DATASET)
#define NELEM 1000000007LL
#else /* MEDIUM */
#define NELEM 200000003LL
#endif

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

#if (BLOCK & (BLOCK - 1)) != 0 || BLOCK < 1 || BLOCK > 1024
#error "BLOCK must be a power of two in [1, 1024]"
#endif

__global__ void __launch_bounds__(BLOCK) reduce_sum(const float *__restrict__ in, double *__restrict__ result, long long n)
{
    __shared__ float partial[BLOCK];
    const unsigned tid = threadIdx.x;
    const long long stride = (long long)gridDim.x * BLOCK;
    const long long first = (long long)blockIdx.x * BLOCK + tid;
    float acc = 0.0f;
    AT_UNROLL(UNROLL)
    for (int c = 0; c < CF; ++c) {
        const long long i = first + (long long)c * stride;
        if (i < n) acc += in[i];
    }
    partial[tid] = acc;
    __syncthreads();
    for (unsigned s = BLOCK / 2; s > 0; s >>= 1) {
        if (tid < s) partial[tid] += partial[tid + s];
        __syncthreads();
    }
    if (tid == 0) atomicAdd(result, (double)partial[0]);
}

int main(void)
{
    at_require_device();
    const size_t count = (size_t)NELEM;
    float *hin = (float *)at_host_alloc(count * sizeof(float));
    at_fill_random_float(hin, count, 4, 0.0, 1.0);

    float *din;
    double *dresult;
    AT_CHECK(cudaMalloc(&din, count * sizeof(float)));
    AT_CHECK(cudaMalloc(&dresult, sizeof(double)));
    AT_CHECK(cudaMemcpy(din, hin, count * sizeof(float), cudaMemcpyHostToDevice));

    const dim3 block(BLOCK);
    const dim3 grid((unsigned)((NELEM + (long long)BLOCK * CF - 1) / ((long long)BLOCK * CF)));

    /* Warm-up (untimed).  The kernel accumulates into the result: zero it before every launch. */
    AT_CHECK(cudaMemset(dresult, 0, sizeof(double)));
    reduce_sum<<<grid, block>>>(din, dresult, NELEM);
    AT_CHECK(cudaGetLastError());
    AT_CHECK(cudaDeviceSynchronize());

    double total = 0.0;
    {
        at_timer timer;
        for (int r = 0; r < REPEAT; ++r) {
            AT_CHECK(cudaMemset(dresult, 0, sizeof(double)));
            timer.start();
            reduce_sum<<<grid, block>>>(din, dresult, NELEM);
            AT_CHECK(cudaGetLastError());
            total += timer.stop();
        }
    }
    double hresult = 0.0;
    AT_CHECK(cudaMemcpy(&hresult, dresult, sizeof(double), cudaMemcpyDeviceToHost));
    at_region("kernel", total);
    const float out = (float)hresult;
    at_print_float(0, &out, 1);

    AT_CHECK(cudaFree(din));
    AT_CHECK(cudaFree(dresult));
    free(hin);
    return 0;
}
