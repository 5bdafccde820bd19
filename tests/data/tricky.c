/* A source meant to trip up naive loop discovery.
 * for (int fake = 0; fake < 10; fake++) -- a loop inside a comment
 */
#include <stdio.h>
#include <autotune.h>

#define N 64
#define SQR(x) ((x) * (x))
#define LOOP_IN_MACRO(n) for (int q = 0; q < (n); q++) sink += q;

static double A[N][N], B[N][N], C[N][N];
static double sink;
const char *text = "for (int s = 0; s < 3; s++)";

static void init(void)
{
    for (int i = 0; i < N; i++)            /* L0: perfect nest, rectangular */
        for (int j = 0; j < N; j++)        /* L1 */
            A[i][j] = (double)((i * j + 1) % N) / N;
    for (int i = 0; i < N; i++) {          /* L2 */
        for (int j = 0; j < N; j++) {      /* L3 */
            B[i][j] = SQR(i - j) / (double)N;
            C[i][j] = 0.0;
        }
    }
}

static void kernel(void)
{
    int i, j, k;
#pragma omp parallel for collapse(2) private(k)
    for (i = 0; i < N; i++)                /* L4: combined pragma, collapse(2) */
        for (j = 0; j < N; j++)            /* L5 */
            for (k = 0; k < N; k++)        /* L6: innermost */
                C[i][j] += A[i][k] * B[k][j];

#pragma omp parallel
    {
#pragma omp for schedule(dynamic, 4) nowait
        for (i = 0; i < N; i++)            /* L7: orphaned for with a schedule */
            for (j = 0; j <= i; j++)       /* L8: triangular, not tileable */
                C[i][j] *= 0.5;
    }

    for (i = 1; i < N; i++) {              /* L9: loop with a break: no tile, no vectorize */
        if (C[i][0] < 0)
            break;
        C[i][0] += C[i - 1][0] * 1e-3;
    }

#pragma omp parallel for \
    schedule(guided)
    for (i = 0; i < N; i++)                /* L10: continued pragma line */
#pragma clang loop unroll(disable)
        for (j = 0; j < N; j++)            /* L11: user's own hint: left alone */
            C[i][j] += 1.0;

    for (i = 0; i < N; i++)                /* L12: perfect 2-deep nest */
        for (j = 0; j < N; j++)            /* L13 */
            B[i][j] = 0.5 * (B[i][j] + C[j][i]);

#ifdef EXTRA
    for (i = 0; i < N; i++) sink += C[i][i]; /* L14: inside #ifdef */
#endif
    LOOP_IN_MACRO(3)
}

int main(void)
{
    init();
    AUTOTUNE_REGION_BEGIN(kernel);
    kernel();
    AUTOTUNE_REGION_END(kernel);
    double s = 0, w = 0;
    for (int i = 0; i < N; i++)            /* L15 */
        for (int j = 0; j < N; j++) {      /* L16 */
            s += C[i][j];
            w += C[i][j] * ((i * N + j) % 7 + 1);
        }
    printf("tricky checksum %.12e %.12e %s\n", s, w, text);
    return 0;
}
