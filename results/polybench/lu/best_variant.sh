#!/bin/sh
# best variant of study lu-MEDIUM_DATASET-3ddea692: 2.297x over the untransformed program
# changed knobs: polly=on polly_parallel=on
set -e
here="$(cd "$(dirname "$0")" && pwd)"
/usr/bin/clang-22 -O3 -fopenmp -mllvm -polly -mllvm -polly-parallel -DMEDIUM_DATASET -DPOLYBENCH_TIME -DPOLYBENCH_DUMP_ARRAYS -I/work/main/build/polybench/polybench-c-4.2.1/linear-algebra/solvers/lu -I/work/main/build/polybench/polybench-c-4.2.1/utilities -I/work/main/autotune/include "$here/best_variant.c" /work/main/build/polybench/polybench-c-4.2.1/utilities/polybench.c -o "$here/best_variant" -lm
cd /work/main/build/polybench/polybench-c-4.2.1/linear-algebra/solvers/lu  # the program runs where autotune ran it
OMP_NUM_THREADS=2 "$here/best_variant"
