#!/bin/sh
# best variant of study correlation-MEDIUM_DATASET-0ad92be7: 1.155x over the untransformed program
# changed knobs: opt=O2 L6.parallel=on L8.parallel=on threads=1 L5.unroll=4 L5.vectorize=4 L5.interleave=8 L7.unroll=2 L7.vectorize=8 L7.interleave=4 L8.tile1=16 L8.tile2=64 L9.unroll=2 L9.vectorize=1 L9.interleave=4 L12.vectorize=8 L12.interleave=1
set -e
here="$(cd "$(dirname "$0")" && pwd)"
/usr/bin/clang-22 -O2 -fopenmp -DMEDIUM_DATASET -DPOLYBENCH_TIME -DPOLYBENCH_DUMP_ARRAYS -I/work/main/build/polybench/polybench-c-4.2.1/datamining/correlation -I/work/main/build/polybench/polybench-c-4.2.1/utilities -I/work/main/autotune/include "$here/best_variant.c" /work/main/build/polybench/polybench-c-4.2.1/utilities/polybench.c -o "$here/best_variant" -lm
cd /work/main/build/polybench/polybench-c-4.2.1/datamining/correlation  # the program runs where autotune ran it
OMP_NUM_THREADS=1 "$here/best_variant"
