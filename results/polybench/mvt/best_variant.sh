#!/bin/sh
# best variant of study mvt-MEDIUM_DATASET-e68e3ae2: 1.940x over the untransformed program
# changed knobs: compiler=gcc L4.parallel=on L6.parallel=on L5.unroll=4
set -e
here="$(cd "$(dirname "$0")" && pwd)"
/usr/bin/gcc -O3 -fopenmp -DMEDIUM_DATASET -DPOLYBENCH_TIME -DPOLYBENCH_DUMP_ARRAYS -I/work/main/build/polybench/polybench-c-4.2.1/linear-algebra/kernels/mvt -I/work/main/build/polybench/polybench-c-4.2.1/utilities -I/work/main/autotune/include "$here/best_variant.c" /work/main/build/polybench/polybench-c-4.2.1/utilities/polybench.c -o "$here/best_variant" -lm
cd /work/main/build/polybench/polybench-c-4.2.1/linear-algebra/kernels/mvt  # the program runs where autotune ran it
OMP_NUM_THREADS=2 "$here/best_variant"
