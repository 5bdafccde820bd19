#!/bin/sh
# best variant of study bicg-MEDIUM_DATASET-d0d3ba63: 8.773x over the untransformed program
# changed knobs: opt=Ofast polly=on polly_tiling=off polly_parallel=on threads=1 L5.unroll=1 L5.vectorize=1 L5.interleave=2 L7.unroll=16 L7.interleave=4
set -e
here="$(cd "$(dirname "$0")" && pwd)"
/usr/bin/clang-22 -Ofast -fopenmp -mllvm -polly -mllvm -polly-tiling=false -mllvm -polly-parallel -DMEDIUM_DATASET -DPOLYBENCH_TIME -DPOLYBENCH_DUMP_ARRAYS -I/work/main/build/polybench/polybench-c-4.2.1/linear-algebra/kernels/bicg -I/work/main/build/polybench/polybench-c-4.2.1/utilities -I/work/main/autotune/include "$here/best_variant.c" /work/main/build/polybench/polybench-c-4.2.1/utilities/polybench.c -o "$here/best_variant" -lm
cd /work/main/build/polybench/polybench-c-4.2.1/linear-algebra/kernels/bicg  # the program runs where autotune ran it
OMP_NUM_THREADS=1 "$here/best_variant"
