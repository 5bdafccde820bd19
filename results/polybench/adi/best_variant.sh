#!/bin/sh
# best variant of study adi-MEDIUM_DATASET-65df16e7: 2.034x over the untransformed program
# changed knobs: march_native=on L5.parallel=on L8.parallel=on L6.unroll=16 L6.vectorize=8 L7.unroll=1 L7.vectorize=2 L7.interleave=2 L9.interleave=8 L10.unroll=2 L10.interleave=2
set -e
here="$(cd "$(dirname "$0")" && pwd)"
/usr/bin/clang-22 -O3 -fopenmp -march=native -DMEDIUM_DATASET -DPOLYBENCH_TIME -DPOLYBENCH_DUMP_ARRAYS -I/work/main/build/polybench/polybench-c-4.2.1/stencils/adi -I/work/main/build/polybench/polybench-c-4.2.1/utilities -I/work/main/autotune/include "$here/best_variant.c" /work/main/build/polybench/polybench-c-4.2.1/utilities/polybench.c -o "$here/best_variant" -lm
cd /work/main/build/polybench/polybench-c-4.2.1/stencils/adi  # the program runs where autotune ran it
OMP_NUM_THREADS=2 "$here/best_variant"
