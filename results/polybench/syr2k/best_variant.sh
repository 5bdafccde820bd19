#!/bin/sh
# best variant of study syr2k-MEDIUM_DATASET-4a2ee10b: 1.444x over the untransformed program
# changed knobs: opt=O2 polly=on polly_tile_size=128 polly_vectorizer=stripmine L8.interchange=j-k L7.unroll=1 L7.vectorize=1 L7.interleave=8 L9.unroll=2 L9.interleave=2
set -e
here="$(cd "$(dirname "$0")" && pwd)"
/usr/bin/clang-22 -O2 -fopenmp -mllvm -polly -mllvm -polly-default-tile-size=128 -mllvm -polly-vectorizer=stripmine -DMEDIUM_DATASET -DPOLYBENCH_TIME -DPOLYBENCH_DUMP_ARRAYS -I/work/main/build/polybench/polybench-c-4.2.1/linear-algebra/blas/syr2k -I/work/main/build/polybench/polybench-c-4.2.1/utilities -I/work/main/autotune/include "$here/best_variant.c" /work/main/build/polybench/polybench-c-4.2.1/utilities/polybench.c -o "$here/best_variant" -lm
cd /work/main/build/polybench/polybench-c-4.2.1/linear-algebra/blas/syr2k  # the program runs where autotune ran it
OMP_NUM_THREADS=2 "$here/best_variant"
