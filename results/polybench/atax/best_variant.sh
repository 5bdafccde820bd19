#!/bin/sh
# best variant of study atax-MEDIUM_DATASET-390ab123: 2.309x over the untransformed program
# changed knobs: march_native=on L4.unroll=16 L4.vectorize=2 L4.interleave=2 L6.unroll=8 L6.vectorize=8 L6.interleave=2 L7.reverse=on L7.unroll=16 L7.vectorize=4 L7.interleave=2
set -e
here="$(cd "$(dirname "$0")" && pwd)"
/usr/bin/clang-22 -O3 -fopenmp -march=native -DMEDIUM_DATASET -DPOLYBENCH_TIME -DPOLYBENCH_DUMP_ARRAYS -I/work/main/build/polybench/polybench-c-4.2.1/linear-algebra/kernels/atax -I/work/main/build/polybench/polybench-c-4.2.1/utilities -I/work/main/autotune/include "$here/best_variant.c" /work/main/build/polybench/polybench-c-4.2.1/utilities/polybench.c -o "$here/best_variant" -lm
cd /work/main/build/polybench/polybench-c-4.2.1/linear-algebra/kernels/atax  # the program runs where autotune ran it
OMP_NUM_THREADS=2 "$here/best_variant"
