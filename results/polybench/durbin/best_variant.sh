#!/bin/sh
# best variant of study durbin-MEDIUM_DATASET-aa6765ba: 2.911x over the untransformed program
# changed knobs: opt=Ofast march_native=on polly=on polly_tile_size=128 polly_vectorizer=stripmine L3.unroll=1 L3.vectorize=1 L3.interleave=2 L4.unroll=1 L4.vectorize=4 L4.interleave=8 L5.reverse=on L5.unroll=2 L5.vectorize=4 L5.interleave=8
set -e
here="$(cd "$(dirname "$0")" && pwd)"
/usr/bin/clang-22 -Ofast -fopenmp -march=native -mllvm -polly -mllvm -polly-default-tile-size=128 -mllvm -polly-vectorizer=stripmine -DMEDIUM_DATASET -DPOLYBENCH_TIME -DPOLYBENCH_DUMP_ARRAYS -I/work/main/build/polybench/polybench-c-4.2.1/linear-algebra/solvers/durbin -I/work/main/build/polybench/polybench-c-4.2.1/utilities -I/work/main/autotune/include "$here/best_variant.c" /work/main/build/polybench/polybench-c-4.2.1/utilities/polybench.c -o "$here/best_variant" -lm
cd /work/main/build/polybench/polybench-c-4.2.1/linear-algebra/solvers/durbin  # the program runs where autotune ran it
OMP_NUM_THREADS=2 "$here/best_variant"
