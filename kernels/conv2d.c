/*
 * conv2d.c -- 2-D convolution of an image with a small K x K filter.
 *
 *   out[i][j] = sum_{a<K} sum_{b<K} w[a][b] * in[i+a][j+b]
 *
 * for an H x W output from an (H+K-1) x (W+K-1) input ("valid" convolution).
 * The filter is a fixed normalised, non-symmetric integer pattern.
 *
 * Sizes (H, W, K):  MINI (64, 48, 5)   SMALL (1200, 1000, 7)
 *                   MEDIUM (2400, 2000, 11)   LARGE (5000, 4000, 13)
 *
 * OpenMP / loop features: computation inline in main; one perfect
 * rectangular depth-4 nest (i, j, a, b) accumulating directly into
 * out[i][j] (zeroed before the timed region) under
 * `#pragma omp parallel for schedule(static)` on the outer loop only.
 * Candidate for `omp tile sizes(...)` on (i, j) and unroll hints on the
 * short innermost loop.  Each out element is summed by one thread in fixed
 * (a, b) order, so the output does not depend on the thread count.
 */
#include <stdio.h>
#include <stdlib.h>
#include <autotune.h>

#if !defined(MINI_DATASET) && !defined(SMALL_DATASET) && \
    !defined(MEDIUM_DATASET) && !defined(LARGE_DATASET)
#define MEDIUM_DATASET
#endif

#if defined(MINI_DATASET)
# ifndef H
#  define H 64
# endif
# ifndef W
#  define W 48
# endif
# ifndef K
#  define K 5
# endif
#elif defined(SMALL_DATASET)
# ifndef H
#  define H 1200
# endif
# ifndef W
#  define W 1000
# endif
# ifndef K
#  define K 7
# endif
#elif defined(MEDIUM_DATASET)
# ifndef H
#  define H 2400
# endif
# ifndef W
#  define W 2000
# endif
# ifndef K
#  define K 11
# endif
#else /* LARGE_DATASET */
# ifndef H
#  define H 5000
# endif
# ifndef W
#  define W 4000
# endif
# ifndef K
#  define K 13
# endif
#endif

static double img[H + K - 1][W + K - 1];
static double out[H][W];
static double wk[K][K];

int main(void)
{
    for (int i = 0; i < H + K - 1; i++)
        for (int j = 0; j < W + K - 1; j++)
            img[i][j] = (double)((i * 37 + j * 91) % 256) / 255.0;
    double wsum_k = 0.0;
    for (int a = 0; a < K; a++)
        for (int b = 0; b < K; b++) {
            wk[a][b] = (double)((a * 3 + b * 5) % 7 + 1);
            wsum_k += wk[a][b];
        }
    for (int a = 0; a < K; a++)
        for (int b = 0; b < K; b++)
            wk[a][b] /= wsum_k;
    for (int i = 0; i < H; i++)
        for (int j = 0; j < W; j++)
            out[i][j] = 0.0;

    AUTOTUNE_REGION_BEGIN(kernel);
#pragma omp parallel for schedule(static)
    for (int i = 0; i < H; i++)
        for (int j = 0; j < W; j++)
            for (int a = 0; a < K; a++)
                for (int b = 0; b < K; b++)
                    out[i][j] += wk[a][b] * img[i + a][j + b];
    AUTOTUNE_REGION_END(kernel);

    double sum = 0.0, wsum = 0.0;
    for (int i = 0; i < H; i++)
        for (int j = 0; j < W; j++) {
            long idx = (long)i * W + j;
            sum += out[i][j];
            wsum += out[i][j] * (double)(idx % 97 + 1);
        }
    printf("conv2d out sum %.12e\n", sum);
    printf("conv2d out wsum %.12e\n", wsum);
    return 0;
}
