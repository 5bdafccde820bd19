#!/bin/sh
# best variant of study jacobi-2d-MEDIUM_DATASET-d1c09649: 2.534x over the untransformed program
# changed knobs: compiler=gcc opt=Ofast march_native=on L5.parallel=on L7.parallel=on
set -e
here="$(cd "$(dirname "$0")" && pwd)"
/usr/bin/gcc -Ofast -fopenmp -march=native -DMEDIUM_DATASET -DPOLYBENCH_TIME -DPOLYBENCH_DUMP_ARRAYS -I/work/main/build/polybench/polybench-c-4.2.1/stencils/jacobi-2d -I/work/main/build/polybench/polybench-c-4.2.1/utilities -I/work/main/autotune/include "$here/best_variant.c" /work/main/build/polybench/polybench-c-4.2.1/utilities/polybench.c -o "$here/best_variant" -lm
cd /work/main/build/polybench/polybench-c-4.2.1/stencils/jacobi-2d  # the program runs where autotune ran it
OMP_NUM_THREADS=2 "$here/best_variant"
