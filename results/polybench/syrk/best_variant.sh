#!/bin/sh
# best variant of study syrk-MEDIUM_DATASET-1f328227: 1.376x over the untransformed program
# changed knobs: polly=on polly_tiling=off polly_parallel=on L6.parallel=on L7.unroll=8 L7.vectorize=1 L7.interleave=1 L8.tile1=128 L8.tile2=64 L9.interleave=4
set -e
here="$(cd "$(dirname "$0")" && pwd)"
/usr/bin/clang-22 -O3 -fopenmp -mllvm -polly -mllvm -polly-tiling=false -mllvm -polly-parallel -DMEDIUM_DATASET -DPOLYBENCH_TIME -DPOLYBENCH_DUMP_ARRAYS -I/work/main/build/polybench/polybench-c-4.2.1/linear-algebra/blas/syrk -I/work/main/build/polybench/polybench-c-4.2.1/utilities -I/work/main/autotune/include "$here/best_variant.c" /work/main/build/polybench/polybench-c-4.2.1/utilities/polybench.c -o "$here/best_variant" -lm
cd /work/main/build/polybench/polybench-c-4.2.1/linear-algebra/blas/syrk  # the program runs where autotune ran it
OMP_NUM_THREADS=2 "$here/best_variant"
