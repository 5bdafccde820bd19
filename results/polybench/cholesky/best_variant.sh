#!/bin/sh
# best variant of study cholesky-MEDIUM_DATASET-d83f02fc: 1.007x over the untransformed program
# changed knobs: compiler=gcc L14.unroll=16
set -e
here="$(cd "$(dirname "$0")" && pwd)"
/usr/bin/gcc -O3 -fopenmp -DMEDIUM_DATASET -DPOLYBENCH_TIME -DPOLYBENCH_DUMP_ARRAYS -I/work/main/build/polybench/polybench-c-4.2.1/linear-algebra/solvers/cholesky -I/work/main/build/polybench/polybench-c-4.2.1/utilities -I/work/main/autotune/include "$here/best_variant.c" /work/main/build/polybench/polybench-c-4.2.1/utilities/polybench.c -o "$here/best_variant" -lm
cd /work/main/build/polybench/polybench-c-4.2.1/linear-algebra/solvers/cholesky  # the program runs where autotune ran it
OMP_NUM_THREADS=2 "$here/best_variant"
