#!/bin/sh
# best variant of study gemver-MEDIUM_DATASET-4f376b57: 1.823x over the untransformed program
# changed knobs: compiler=gcc L3.parallel=on L5.parallel=on L8.parallel=on L4.unroll=8 L6.unroll=16 L7.unroll=4 L9.unroll=4
set -e
here="$(cd "$(dirname "$0")" && pwd)"
/usr/bin/gcc -O3 -fopenmp -DMEDIUM_DATASET -DPOLYBENCH_TIME -DPOLYBENCH_DUMP_ARRAYS -I/work/main/build/polybench/polybench-c-4.2.1/linear-algebra/blas/gemver -I/work/main/build/polybench/polybench-c-4.2.1/utilities -I/work/main/autotune/include "$here/best_variant.c" /work/main/build/polybench/polybench-c-4.2.1/utilities/polybench.c -o "$here/best_variant" -lm
cd /work/main/build/polybench/polybench-c-4.2.1/linear-algebra/blas/gemver  # the program runs where autotune ran it
OMP_NUM_THREADS=2 "$here/best_variant"
