#!/bin/sh
# best variant of study symm-MEDIUM_DATASET-5619776f: 1.748x over the untransformed program
# changed knobs: compiler=gcc opt=O2 L8.parallel=on L9.unroll=2
set -e
here="$(cd "$(dirname "$0")" && pwd)"
/usr/bin/gcc -O2 -fopenmp -DMEDIUM_DATASET -DPOLYBENCH_TIME -DPOLYBENCH_DUMP_ARRAYS -I/work/main/build/polybench/polybench-c-4.2.1/linear-algebra/blas/symm -I/work/main/build/polybench/polybench-c-4.2.1/utilities -I/work/main/autotune/include "$here/best_variant.c" /work/main/build/polybench/polybench-c-4.2.1/utilities/polybench.c -o "$here/best_variant" -lm
cd /work/main/build/polybench/polybench-c-4.2.1/linear-algebra/blas/symm  # the program runs where autotune ran it
OMP_NUM_THREADS=2 "$here/best_variant"
