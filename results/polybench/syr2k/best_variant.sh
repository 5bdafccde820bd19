#!/bin/sh
# best variant of study syr2k-MEDIUM_DATASET-4a2ee10b: 1.432x over the untransformed program
# changed knobs: polly=on polly_tiling=off polly_vectorizer=stripmine L7.unroll=2 L7.vectorize=8 L7.interleave=8 L8.tile1=128 L9.vectorize=4
set -e
here="$(cd "$(dirname "$0")" && pwd)"
/usr/bin/clang-22 -O3 -fopenmp -mllvm -polly -mllvm -polly-tiling=false -mllvm -polly-vectorizer=stripmine -DMEDIUM_DATASET -DPOLYBENCH_TIME -DPOLYBENCH_DUMP_ARRAYS -I/work/main/build/polybench/polybench-c-4.2.1/linear-algebra/blas/syr2k -I/work/main/build/polybench/polybench-c-4.2.1/utilities -I/work/main/autotune/include "$here/best_variant.c" /work/main/build/polybench/polybench-c-4.2.1/utilities/polybench.c -o "$here/best_variant" -lm
cd /work/main/build/polybench/polybench-c-4.2.1/linear-algebra/blas/syr2k  # the program runs where autotune ran it
OMP_NUM_THREADS=2 "$here/best_variant"
