#!/bin/sh
# best variant of study gramschmidt-MEDIUM_DATASET-beba3fcc: 1.769x over the untransformed program
# changed knobs: compiler=gcc L10.parallel=on L11.parallel=on L12.unroll=2 L13.unroll=8
set -e
here="$(cd "$(dirname "$0")" && pwd)"
/usr/bin/gcc -O3 -fopenmp -DMEDIUM_DATASET -DPOLYBENCH_TIME -DPOLYBENCH_DUMP_ARRAYS -I/work/main/build/polybench/polybench-c-4.2.1/linear-algebra/solvers/gramschmidt -I/work/main/build/polybench/polybench-c-4.2.1/utilities -I/work/main/autotune/include "$here/best_variant.c" /work/main/build/polybench/polybench-c-4.2.1/utilities/polybench.c -o "$here/best_variant" -lm
cd /work/main/build/polybench/polybench-c-4.2.1/linear-algebra/solvers/gramschmidt  # the program runs where autotune ran it
OMP_NUM_THREADS=2 "$here/best_variant"
