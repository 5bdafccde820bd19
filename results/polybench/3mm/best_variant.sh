#!/bin/sh
# best variant of study 3mm-MEDIUM_DATASET-4d9013a0: 4.469x over the untransformed program
# changed knobs: opt=O2 polly=on polly_tiling=off polly_vectorizer=stripmine polly_parallel=on L10.parallel=on L16.parallel=on L10.tile1=32 L12.unroll=4 L12.vectorize=8 L12.interleave=2 L13.tile2=128 L15.unroll=1 L15.vectorize=2 L15.interleave=8 L16.tile1=32 L16.tile2=128 L18.unroll=16 L18.vectorize=4 L18.interleave=4
set -e
here="$(cd "$(dirname "$0")" && pwd)"
/usr/bin/clang-22 -O2 -fopenmp -mllvm -polly -mllvm -polly-tiling=false -mllvm -polly-vectorizer=stripmine -mllvm -polly-parallel -DMEDIUM_DATASET -DPOLYBENCH_TIME -DPOLYBENCH_DUMP_ARRAYS -I/work/main/build/polybench/polybench-c-4.2.1/linear-algebra/kernels/3mm -I/work/main/build/polybench/polybench-c-4.2.1/utilities -I/work/main/autotune/include "$here/best_variant.c" /work/main/build/polybench/polybench-c-4.2.1/utilities/polybench.c -o "$here/best_variant" -lm
cd /work/main/build/polybench/polybench-c-4.2.1/linear-algebra/kernels/3mm  # the program runs where autotune ran it
OMP_NUM_THREADS=2 "$here/best_variant"
