#!/bin/sh
# best variant of study durbin-MEDIUM_DATASET-aa6765ba: 2.743x over the untransformed program
# changed knobs: compiler=gcc opt=Ofast march_native=on L4.unroll=2 L5.unroll=4
set -e
here="$(cd "$(dirname "$0")" && pwd)"
/usr/bin/gcc -Ofast -fopenmp -march=native -DMEDIUM_DATASET -DPOLYBENCH_TIME -DPOLYBENCH_DUMP_ARRAYS -I/work/main/build/polybench/polybench-c-4.2.1/linear-algebra/solvers/durbin -I/work/main/build/polybench/polybench-c-4.2.1/utilities -I/work/main/autotune/include "$here/best_variant.c" /work/main/build/polybench/polybench-c-4.2.1/utilities/polybench.c -o "$here/best_variant" -lm
cd /work/main/build/polybench/polybench-c-4.2.1/linear-algebra/solvers/durbin  # the program runs where autotune ran it
OMP_NUM_THREADS=2 "$here/best_variant"
