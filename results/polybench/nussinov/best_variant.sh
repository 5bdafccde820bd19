#!/bin/sh
# best variant of study nussinov-MEDIUM_DATASET-d6ba426a: 1.676x over the untransformed program
# changed knobs: compiler=gcc march_native=on L7.unroll=8
set -e
here="$(cd "$(dirname "$0")" && pwd)"
/usr/bin/gcc -O3 -fopenmp -march=native -DMEDIUM_DATASET -DPOLYBENCH_TIME -DPOLYBENCH_DUMP_ARRAYS -I/work/main/build/polybench/polybench-c-4.2.1/medley/nussinov -I/work/main/build/polybench/polybench-c-4.2.1/utilities -I/work/main/autotune/include "$here/best_variant.c" /work/main/build/polybench/polybench-c-4.2.1/utilities/polybench.c -o "$here/best_variant" -lm
cd /work/main/build/polybench/polybench-c-4.2.1/medley/nussinov  # the program runs where autotune ran it
OMP_NUM_THREADS=2 "$here/best_variant"
