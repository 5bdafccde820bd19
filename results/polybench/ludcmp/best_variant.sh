#!/bin/sh
# best variant of study ludcmp-MEDIUM_DATASET-052ba2b5: 1.732x over the untransformed program
# changed knobs: compiler=gcc opt=Ofast march_native=on L14.unroll=16 L16.unroll=16 L18.unroll=2 L20.unroll=1
set -e
here="$(cd "$(dirname "$0")" && pwd)"
/usr/bin/gcc -Ofast -fopenmp -march=native -DMEDIUM_DATASET -DPOLYBENCH_TIME -DPOLYBENCH_DUMP_ARRAYS -I/work/main/build/polybench/polybench-c-4.2.1/linear-algebra/solvers/ludcmp -I/work/main/build/polybench/polybench-c-4.2.1/utilities -I/work/main/autotune/include "$here/best_variant.c" /work/main/build/polybench/polybench-c-4.2.1/utilities/polybench.c -o "$here/best_variant" -lm
cd /work/main/build/polybench/polybench-c-4.2.1/linear-algebra/solvers/ludcmp  # the program runs where autotune ran it
OMP_NUM_THREADS=2 "$here/best_variant"
