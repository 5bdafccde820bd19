/* stencil2d: one Jacobi sweep of a 5-point stencil on an N x N grid, one point per work item.
 * The border copies its input. 2-D launch: coarsening shrinks dimension 0 (columns). */
__kernel void stencil2d(__global const float *in, __global float *out, const int n) {
    int x = get_global_id(0), y = get_global_id(1);
    int i = y * n + x;
    if (x == 0 || y == 0 || x == n - 1 || y == n - 1) {
        out[i] = in[i];
        return;
    }
    out[i] = 0.2f * (in[i] + in[i - 1] + in[i + 1] + in[i - n] + in[i + n]);
}
