#!/bin/sh
# best variant of study trisolv-MEDIUM_DATASET-5520066a: 2.469x over the untransformed program
# changed knobs: opt=O2 march_native=on L4.unroll=8 L4.vectorize=4 L4.interleave=4
set -e
here="$(cd "$(dirname "$0")" && pwd)"
/usr/bin/clang-22 -O2 -fopenmp -march=native -DMEDIUM_DATASET -DPOLYBENCH_TIME -DPOLYBENCH_DUMP_ARRAYS -I/work/main/build/polybench/polybench-c-4.2.1/linear-algebra/solvers/trisolv -I/work/main/build/polybench/polybench-c-4.2.1/utilities -I/work/main/autotune/include "$here/best_variant.c" /work/main/build/polybench/polybench-c-4.2.1/utilities/polybench.c -o "$here/best_variant" -lm
cd /work/main/build/polybench/polybench-c-4.2.1/linear-algebra/solvers/trisolv  # the program runs where autotune ran it
OMP_NUM_THREADS=2 "$here/best_variant"
