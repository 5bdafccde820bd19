#!/bin/sh
# best variant of study gesummv-MEDIUM_DATASET-ff90e899: 4.337x over the untransformed program
# changed knobs: opt=O1 polly=on polly_tile_size=16 L3.parallel=on L4.unroll=4 L4.interleave=4
set -e
here="$(cd "$(dirname "$0")" && pwd)"
/usr/bin/clang-22 -O1 -fopenmp -mllvm -polly -mllvm -polly-default-tile-size=16 -DMEDIUM_DATASET -DPOLYBENCH_TIME -DPOLYBENCH_DUMP_ARRAYS -I/work/main/build/polybench/polybench-c-4.2.1/linear-algebra/blas/gesummv -I/work/main/build/polybench/polybench-c-4.2.1/utilities -I/work/main/autotune/include "$here/best_variant.c" /work/main/build/polybench/polybench-c-4.2.1/utilities/polybench.c -o "$here/best_variant" -lm
cd /work/main/build/polybench/polybench-c-4.2.1/linear-algebra/blas/gesummv  # the program runs where autotune ran it
OMP_NUM_THREADS=2 "$here/best_variant"
