/**
 * seq_2mm.c: a sequential PolyBench/C-style program written for the autotune
 * tests (not part of PolyBench/C; build it against tests/data/polybench_style/utilities).
 *
 * No OpenMP anywhere: the tool must not offer a thread count unless one of its
 * parallelization knobs is on.
 *   D := alpha*A*B*C + beta*D   (two 3-deep nests, as in 2mm)
 *   x := x + A^T y              (a nest whose inner loop strides: an interchange pays)
 */
#include <stdio.h>
#include <string.h>
#include <math.h>

#include <polybench.h>

#ifndef NI
# define NI 24
# define NJ 28
# define NK 32
# define NL 36
#endif
#define _PB_NI POLYBENCH_LOOP_BOUND(NI,ni)
#define _PB_NJ POLYBENCH_LOOP_BOUND(NJ,nj)
#define _PB_NK POLYBENCH_LOOP_BOUND(NK,nk)
#define _PB_NL POLYBENCH_LOOP_BOUND(NL,nl)

#define DATA_TYPE double
#define DATA_PRINTF_MODIFIER "%0.6lf "
#define SCALAR_VAL(x) x

static
void init_array(int ni, int nj, int nk, int nl,
		DATA_TYPE *alpha, DATA_TYPE *beta,
		DATA_TYPE POLYBENCH_2D(A,NI,NK,ni,nk),
		DATA_TYPE POLYBENCH_2D(B,NK,NJ,nk,nj),
		DATA_TYPE POLYBENCH_2D(C,NJ,NL,nj,nl),
		DATA_TYPE POLYBENCH_2D(D,NI,NL,ni,nl),
		DATA_TYPE POLYBENCH_1D(x,NK,nk),
		DATA_TYPE POLYBENCH_1D(y,NI,ni))
{
  int i, j;

  *alpha = 1.5;
  *beta = 1.2;
  for (i = 0; i < ni; i++)
    for (j = 0; j < nk; j++)
      A[i][j] = (DATA_TYPE) ((i*j+1) % ni) / ni;
  for (i = 0; i < nk; i++)
    for (j = 0; j < nj; j++)
      B[i][j] = (DATA_TYPE) (i*(j+1) % nj) / nj;
  for (i = 0; i < nj; i++)
    for (j = 0; j < nl; j++)
      C[i][j] = (DATA_TYPE) ((i*(j+3)+1) % nl) / nl;
  for (i = 0; i < ni; i++)
    for (j = 0; j < nl; j++)
      D[i][j] = (DATA_TYPE) (i*(j+2) % nk) / nk;
  for (i = 0; i < nk; i++)
    x[i] = (DATA_TYPE) (i % 7) / 7;
  for (i = 0; i < ni; i++)
    y[i] = (DATA_TYPE) (i % 5) / 5;
}

static
void print_array(int ni, int nl, int nk,
		 DATA_TYPE POLYBENCH_2D(D,NI,NL,ni,nl),
		 DATA_TYPE POLYBENCH_1D(x,NK,nk))
{
  int i, j;

  POLYBENCH_DUMP_START;
  POLYBENCH_DUMP_BEGIN("D");
  for (i = 0; i < ni; i++)
    for (j = 0; j < nl; j++) {
	if ((i * ni + j) % 20 == 0) fprintf (POLYBENCH_DUMP_TARGET, "\n");
	fprintf (POLYBENCH_DUMP_TARGET, DATA_PRINTF_MODIFIER, D[i][j]);
    }
  POLYBENCH_DUMP_END("D");
  POLYBENCH_DUMP_BEGIN("x");
  for (i = 0; i < nk; i++) {
    if (i % 20 == 0) fprintf (POLYBENCH_DUMP_TARGET, "\n");
    fprintf (POLYBENCH_DUMP_TARGET, DATA_PRINTF_MODIFIER, x[i]);
  }
  POLYBENCH_DUMP_END("x");
  POLYBENCH_DUMP_FINISH;
}

static
void kernel_seq(int ni, int nj, int nk, int nl,
		DATA_TYPE alpha, DATA_TYPE beta,
		DATA_TYPE POLYBENCH_2D(tmp,NI,NJ,ni,nj),
		DATA_TYPE POLYBENCH_2D(A,NI,NK,ni,nk),
		DATA_TYPE POLYBENCH_2D(B,NK,NJ,nk,nj),
		DATA_TYPE POLYBENCH_2D(C,NJ,NL,nj,nl),
		DATA_TYPE POLYBENCH_2D(D,NI,NL,ni,nl),
		DATA_TYPE POLYBENCH_1D(x,NK,nk),
		DATA_TYPE POLYBENCH_1D(y,NI,ni))
{
  int i, j, k;

#pragma scop
  for (i = 0; i < _PB_NI; i++)            /* parallel: tmp is written at [i][.] only */
    for (j = 0; j < _PB_NJ; j++)
      {
	tmp[i][j] = SCALAR_VAL(0.0);
	for (k = 0; k < _PB_NK; ++k)
	  tmp[i][j] += alpha * A[i][k] * B[k][j];
      }
  for (i = 0; i < _PB_NI; i++)            /* parallel; reads tmp right after it was written: reverse */
    for (j = 0; j < _PB_NL; j++)
      {
	D[i][j] *= beta;
	for (k = 0; k < _PB_NJ; ++k)
	  D[i][j] += tmp[i][k] * C[k][j];
      }
  for (i = 0; i < _PB_NK; i++)            /* parallel; i-j strides through A[j][i]: interchange */
    for (j = 0; j < _PB_NI; j++)
      x[i] = x[i] + A[j][i] * y[j];
#pragma endscop
}

int main(int argc, char** argv)
{
  int ni = NI, nj = NJ, nk = NK, nl = NL;
  DATA_TYPE alpha;
  DATA_TYPE beta;
  POLYBENCH_2D_ARRAY_DECL(tmp,DATA_TYPE,NI,NJ,ni,nj);
  POLYBENCH_2D_ARRAY_DECL(A,DATA_TYPE,NI,NK,ni,nk);
  POLYBENCH_2D_ARRAY_DECL(B,DATA_TYPE,NK,NJ,nk,nj);
  POLYBENCH_2D_ARRAY_DECL(C,DATA_TYPE,NJ,NL,nj,nl);
  POLYBENCH_2D_ARRAY_DECL(D,DATA_TYPE,NI,NL,ni,nl);
  POLYBENCH_1D_ARRAY_DECL(x,DATA_TYPE,NK,nk);
  POLYBENCH_1D_ARRAY_DECL(y,DATA_TYPE,NI,ni);

  init_array (ni, nj, nk, nl, &alpha, &beta,
	      POLYBENCH_ARRAY(A), POLYBENCH_ARRAY(B), POLYBENCH_ARRAY(C), POLYBENCH_ARRAY(D),
	      POLYBENCH_ARRAY(x), POLYBENCH_ARRAY(y));

  polybench_start_instruments;

  kernel_seq (ni, nj, nk, nl, alpha, beta,
	      POLYBENCH_ARRAY(tmp), POLYBENCH_ARRAY(A), POLYBENCH_ARRAY(B),
	      POLYBENCH_ARRAY(C), POLYBENCH_ARRAY(D), POLYBENCH_ARRAY(x), POLYBENCH_ARRAY(y));

  polybench_stop_instruments;
  polybench_print_instruments;

  polybench_prevent_dce(print_array(ni, nl, nk, POLYBENCH_ARRAY(D), POLYBENCH_ARRAY(x)));

  POLYBENCH_FREE_ARRAY(tmp);
  POLYBENCH_FREE_ARRAY(A);
  POLYBENCH_FREE_ARRAY(B);
  POLYBENCH_FREE_ARRAY(C);
  POLYBENCH_FREE_ARRAY(D);
  POLYBENCH_FREE_ARRAY(x);
  POLYBENCH_FREE_ARRAY(y);
  return 0;
}
