/* matvec_vw: y = A x, one row per work item, the row read VW floats at a time (vloadVW).
 * VW, the vector width, is a size the description tunes (-DVW=1, 2, 4, 8 or 16): wider loads
 * and multiplies where the device's vector units pay for them. COLS must be a multiple of 16. */
#ifndef VW
#define VW 1
#endif
#define CAT(a, b) a##b
#define XCAT(a, b) CAT(a, b)
#if VW == 1
typedef float floatv;
#define LOADV(i, p) ((p)[i])
#define HSUM(v) (v)
#else
typedef XCAT(float, VW) floatv;
#define LOADV(i, p) XCAT(vload, VW)(i, p)
#if VW == 2
#define HSUM(v) ((v).s0 + (v).s1)
#elif VW == 4
#define HSUM(v) (((v).s0 + (v).s1) + ((v).s2 + (v).s3))
#elif VW == 8
#define HSUM4(v) (((v).s0 + (v).s1) + ((v).s2 + (v).s3))
#define HSUM(v) (HSUM4((v).lo) + HSUM4((v).hi))
#elif VW == 16
#define HSUM4(v) (((v).s0 + (v).s1) + ((v).s2 + (v).s3))
#define HSUM8(v) (HSUM4((v).lo) + HSUM4((v).hi))
#define HSUM(v) (HSUM8((v).lo) + HSUM8((v).hi))
#endif
#endif

__kernel void matvec_vw(__global const float *A, __global const float *x, __global float *y,
                        const int rows, const int cols) {
    int r = get_global_id(0);
    if (r >= rows) return;
    __global const float *row = A + (size_t)r * cols;
    floatv acc = (floatv)(0.0f);
    for (int c = 0; c < cols / VW; ++c)
        acc += LOADV(c, row) * LOADV(c, x);
    y[r] = HSUM(acc);
}
