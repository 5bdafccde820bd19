#!/bin/sh
# best variant of study floyd-warshall-MEDIUM_DATASET-94954ef3: 1.325x over the untransformed program
# changed knobs: compiler=gcc march_native=on L6.unroll=4
set -e
here="$(cd "$(dirname "$0")" && pwd)"
/usr/bin/gcc -O3 -fopenmp -march=native -DMEDIUM_DATASET -DPOLYBENCH_TIME -DPOLYBENCH_DUMP_ARRAYS -I/work/main/build/polybench/polybench-c-4.2.1/medley/floyd-warshall -I/work/main/build/polybench/polybench-c-4.2.1/utilities -I/work/main/autotune/include "$here/best_variant.c" /work/main/build/polybench/polybench-c-4.2.1/utilities/polybench.c -o "$here/best_variant" -lm
cd /work/main/build/polybench/polybench-c-4.2.1/medley/floyd-warshall  # the program runs where autotune ran it
OMP_NUM_THREADS=2 "$here/best_variant"
