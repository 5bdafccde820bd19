/*
 * transpose.cu -- out = in^T for an NR x NC float matrix (in is NR x NC, out is NC x NR, row-major),
 * through square TILE x TILE tiles in shared memory (TILE = BX; padded by one column against bank conflicts).
 *
 * Block (BX, BY): thread (tx, ty) moves the tile rows ty, ty + BY, ty + 2*BY, ... (TILE/BY rows each;
 * any BY works, the declared ones divide every declared BX).  Each block handles CF tiles side by side
 * along the input's columns: block (bx, by) takes input rows by*TILE .. by*TILE+TILE-1 and the column
 * tiles bx*CF + c, c = 0..CF-1 (the loop stops at the first tile past the last column; the stop is the
 * same for every thread of the block, so the barriers stay uniform).  Loads read rows of `in` and stores
 * write rows of `out`, both coalesced.  UNROLL unrolls the two per-thread row loops (load and store).
 * Edges: an element is loaded only if inside `in` and stored only if inside `out`, and a stored element's
 * source is exactly a loaded one, so any NR, NC are correct.  A copy: the output is exact.
 *
 * Sizes (NR x NC): SMALL 3001 x 2503   MEDIUM 10001 x 8003 (~0.64 GB moved)   LARGE 20011 x 16001
 * Input: uniform in [0, 1) (splitmix64 seed 8).  Output: out.
 */
#include "autotune_cuda.cuh"

#if defined(SMALL_DATASET)
#define NR 3001
#define NC 2503
#elif defined(LARGE_DATASET)
#define NR 20011
#define NC 16001
#else /* MEDIUM */
#define NR 10001
#define NC 8003
#endif

// @autotune param BX 16 32 64
#ifndef BX
#define BX 32
#endif
// @autotune param BY 1 2 4 8 16
#ifndef BY
#define BY 8
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

#define TILE BX

__global__ void __launch_bounds__(BX * BY) transpose(const float *__restrict__ in, float *__restrict__ out, int nr, int nc)
{
    __shared__ float tile[TILE][TILE + 1];
    const int tx = threadIdx.x, ty = threadIdx.y;
    const int row0 = blockIdx.y * TILE; /* first input row of this block's tiles */
    for (int c = 0; c < CF; ++c) {
        const int col0 = (blockIdx.x * CF + c) * TILE; /* first input column of this tile */
        if (col0 >= nc) break;                          /* uniform across the block */
        /* load: tile[j][tx] = in[row0 + j][col0 + tx] */
        const int col = col0 + tx;
        AT_UNROLL(UNROLL)
        for (int j = ty; j < TILE; j += BY) {
            const int row = row0 + j;
            if (row < nr && col < nc) tile[j][tx] = in[(size_t)row * nc + col];
        }
        __syncthreads();
        /* store: out[col0 + j][row0 + tx] = in[row0 + tx][col0 + j] = tile[tx][j] */
        const int ocol = row0 + tx;
        AT_UNROLL(UNROLL)
        for (int j = ty; j < TILE; j += BY) {
            const int orow = col0 + j;
            if (orow < nc && ocol < nr) out[(size_t)orow * nr + ocol] = tile[tx][j];
        }
        __syncthreads(); /* the next tile overwrites the shared memory */
    }
}

int main(void)
{
    at_require_device();
    const size_t count = (size_t)NR * NC;
    float *hin = (float *)at_host_alloc(count * sizeof(float));
    float *hout = (float *)at_host_alloc(count * sizeof(float));
    at_fill_random_float(hin, count, 8, 0.0, 1.0);

    float *din, *dout;
    AT_CHECK(cudaMalloc(&din, count * sizeof(float)));
    AT_CHECK(cudaMalloc(&dout, count * sizeof(float)));
    AT_CHECK(cudaMemcpy(din, hin, count * sizeof(float), cudaMemcpyHostToDevice));

    const dim3 block(BX, BY);
    const dim3 grid((NC + TILE * CF - 1) / (TILE * CF), (NR + TILE - 1) / TILE);

    /* Warm-up (untimed).  The input is only read, so nothing is re-uploaded between launches. */
    transpose<<<grid, block>>>(din, dout, NR, NC);
    AT_CHECK(cudaGetLastError());
    AT_CHECK(cudaDeviceSynchronize());

    double total = 0.0;
    {
        at_timer timer;
        for (int r = 0; r < REPEAT; ++r) {
            timer.start();
            transpose<<<grid, block>>>(din, dout, NR, NC);
            AT_CHECK(cudaGetLastError());
            total += timer.stop();
        }
    }
    AT_CHECK(cudaMemcpy(hout, dout, count * sizeof(float), cudaMemcpyDeviceToHost));
    at_region("kernel", total);
    at_print_float(0, hout, count);

    AT_CHECK(cudaFree(din));
    AT_CHECK(cudaFree(dout));
    free(hin);
    free(hout);
    return 0;
}
