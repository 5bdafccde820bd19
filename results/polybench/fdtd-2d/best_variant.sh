#!/bin/sh
# best variant of study fdtd-2d-MEDIUM_DATASET-2e658a11: 1.880x over the untransformed program
# changed knobs: compiler=gcc L11.parallel=on L13.parallel=on L15.parallel=on L10.unroll=8 L12.unroll=1 L16.unroll=1
set -e
here="$(cd "$(dirname "$0")" && pwd)"
/usr/bin/gcc -O3 -fopenmp -DMEDIUM_DATASET -DPOLYBENCH_TIME -DPOLYBENCH_DUMP_ARRAYS -I/work/main/build/polybench/polybench-c-4.2.1/stencils/fdtd-2d -I/work/main/build/polybench/polybench-c-4.2.1/utilities -I/work/main/autotune/include "$here/best_variant.c" /work/main/build/polybench/polybench-c-4.2.1/utilities/polybench.c -o "$here/best_variant" -lm
cd /work/main/build/polybench/polybench-c-4.2.1/stencils/fdtd-2d  # the program runs where autotune ran it
OMP_NUM_THREADS=2 "$here/best_variant"
