/* matvec: y = A x, one row per work item (the shape of NVIDIA's MatVecMul "uncoalesced" kernel).
 * No barriers and no local memory, so it can be coarsened; each row's loop is the unroll site. */
__kernel void matvec(__global const float *A, __global const float *x, __global float *y,
                     const int rows, const int cols) {
    int r = get_global_id(0);
    if (r >= rows) return;
    float sum = 0.0f;
    for (int c = 0; c < cols; ++c)
        sum += A[r * cols + c] * x[c];
    y[r] = sum;
}
