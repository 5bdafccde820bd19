/*
 * spmv_csr.cu -- y = A x with A an NROWS x NCOLS sparse float matrix in CSR form (scalar kernel).
 *
 * The structure is generated on the host from splitmix64 (seed 5): row r draws 5 + (draw % 36) column
 * indices (5 to 40) uniformly in [0, NCOLS), sorted, duplicates dropped (so a row keeps 1 to 40 nonzeros,
 * almost always all of its draws).  Values uniform in [0, 1) (seed 6), x uniform in [0, 1) (seed 7).
 *
 * Grid of ceil(NROWS / (BLOCK*CF)) blocks of BLOCK threads; each thread computes CF rows: block b's
 * thread t takes rows b*BLOCK*CF + t + c*BLOCK, c = 0..CF-1 (strided by BLOCK, so neighbouring threads
 * take neighbouring rows at each step).  A row's dot product runs over its nonzeros in column order
 * whatever BLOCK/CF/UNROLL, so y is exact.  UNROLL unrolls the loop over a row's nonzeros.
 *
 * Sizes (NROWS = NCOLS): SMALL 100003   MEDIUM 1000003 (~22.5M nonzeros)   LARGE 4000037
 * Output: y.
 */
#include <algorithm>

#include "autotune_cuda.cuh"

#if defined(SMALL_DATASET)
#define NROWS 100003
#elif defined(LARGE_DATASET)
#define NROWS 4000037
#else /* MEDIUM */
#define NROWS 1000003
#endif
#define NCOLS NROWS
#define MIN_ROW_NNZ 5
#define MAX_ROW_NNZ 40

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

__global__ void __launch_bounds__(BLOCK)
    spmv_csr(const int *__restrict__ rowptr, const int *__restrict__ colidx, const float *__restrict__ val,
             const float *__restrict__ x, float *__restrict__ y, int nrows)
{
    const int first = blockIdx.x * (BLOCK * CF) + threadIdx.x;
#pragma unroll
    for (int c = 0; c < CF; ++c) {
        const int row = first + c * BLOCK;
        if (row < nrows) {
            const int begin = rowptr[row], end = rowptr[row + 1];
            float acc = 0.0f;
            AT_UNROLL(UNROLL)
            for (int j = begin; j < end; ++j) acc += val[j] * x[colidx[j]];
            y[row] = acc;
        }
    }
}

/* rowptr has NROWS + 1 entries; returns colidx (rowptr[NROWS] entries), allocated here. */
static int *build_structure(int *rowptr)
{
    int *colidx = (int *)at_host_alloc((size_t)NROWS * MAX_ROW_NNZ * sizeof(int)); /* the most it can need */
    uint64_t state = 5;
    int nnz = 0;
    rowptr[0] = 0;
    for (int r = 0; r < NROWS; ++r) {
        const int want = MIN_ROW_NNZ + (int)(at_splitmix64(&state) % (MAX_ROW_NNZ - MIN_ROW_NNZ + 1));
        int *row = colidx + nnz;
        for (int j = 0; j < want; ++j) row[j] = (int)(at_splitmix64(&state) % (uint64_t)NCOLS);
        std::sort(row, row + want);
        nnz += (int)(std::unique(row, row + want) - row);
        rowptr[r + 1] = nnz;
    }
    return colidx;
}

int main(void)
{
    at_require_device();
    int *hrowptr = (int *)at_host_alloc((size_t)(NROWS + 1) * sizeof(int));
    int *hcol = build_structure(hrowptr);
    const size_t nnz = (size_t)hrowptr[NROWS];
    float *hval = (float *)at_host_alloc(nnz * sizeof(float));
    float *hx = (float *)at_host_alloc((size_t)NCOLS * sizeof(float));
    float *hy = (float *)at_host_alloc((size_t)NROWS * sizeof(float));
    at_fill_random_float(hval, nnz, 6, 0.0, 1.0);
    at_fill_random_float(hx, NCOLS, 7, 0.0, 1.0);

    int *drowptr, *dcol;
    float *dval, *dx, *dy;
    AT_CHECK(cudaMalloc(&drowptr, (size_t)(NROWS + 1) * sizeof(int)));
    AT_CHECK(cudaMalloc(&dcol, nnz * sizeof(int)));
    AT_CHECK(cudaMalloc(&dval, nnz * sizeof(float)));
    AT_CHECK(cudaMalloc(&dx, (size_t)NCOLS * sizeof(float)));
    AT_CHECK(cudaMalloc(&dy, (size_t)NROWS * sizeof(float)));
    AT_CHECK(cudaMemcpy(drowptr, hrowptr, (size_t)(NROWS + 1) * sizeof(int), cudaMemcpyHostToDevice));
    AT_CHECK(cudaMemcpy(dcol, hcol, nnz * sizeof(int), cudaMemcpyHostToDevice));
    AT_CHECK(cudaMemcpy(dval, hval, nnz * sizeof(float), cudaMemcpyHostToDevice));
    AT_CHECK(cudaMemcpy(dx, hx, (size_t)NCOLS * sizeof(float), cudaMemcpyHostToDevice));

    const dim3 block(BLOCK);
    const dim3 grid((NROWS + BLOCK * CF - 1) / (BLOCK * CF));

    /* Warm-up (untimed).  y is only written, so nothing is re-uploaded between launches. */
    spmv_csr<<<grid, block>>>(drowptr, dcol, dval, dx, dy, NROWS);
    AT_CHECK(cudaGetLastError());
    AT_CHECK(cudaDeviceSynchronize());

    double total = 0.0;
    {
        at_timer timer;
        for (int r = 0; r < REPEAT; ++r) {
            timer.start();
            spmv_csr<<<grid, block>>>(drowptr, dcol, dval, dx, dy, NROWS);
            AT_CHECK(cudaGetLastError());
            total += timer.stop();
        }
    }
    AT_CHECK(cudaMemcpy(hy, dy, (size_t)NROWS * sizeof(float), cudaMemcpyDeviceToHost));
    at_region("kernel", total);
    at_print_float(0, hy, NROWS);

    AT_CHECK(cudaFree(drowptr));
    AT_CHECK(cudaFree(dcol));
    AT_CHECK(cudaFree(dval));
    AT_CHECK(cudaFree(dx));
    AT_CHECK(cudaFree(dy));
    free(hrowptr);
    free(hcol);
    free(hval);
    free(hx);
    free(hy);
    return 0;
}
