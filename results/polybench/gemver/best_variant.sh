#!/bin/sh
# best variant of study gemver-MEDIUM_DATASET-4f376b57: 1.778x over the untransformed program
# changed knobs: compiler=gcc opt=Ofast march_native=on L3.parallel=on L5.parallel=on L8.parallel=on L6.unroll=1 L7.unroll=4 L9.unroll=1
set -e
here="$(cd "$(dirname "$0")" && pwd)"
/usr/bin/gcc -Ofast -fopenmp -march=native -DMEDIUM_DATASET -DPOLYBENCH_TIME -DPOLYBENCH_DUMP_ARRAYS -I/work/main/build/polybench/polybench-c-4.2.1/linear-algebra/blas/gemver -I/work/main/build/polybench/polybench-c-4.2.1/utilities -I/work/main/autotune/include "$here/best_variant.c" /work/main/build/polybench/polybench-c-4.2.1/utilities/polybench.c -o "$here/best_variant" -lm
cd /work/main/build/polybench/polybench-c-4.2.1/linear-algebra/blas/gemver  # the program runs where autotune ran it
OMP_NUM_THREADS=2 "$here/best_variant"
