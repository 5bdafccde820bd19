#!/bin/sh
# best variant of study deriche-MEDIUM_DATASET-eec233f9: 1.992x over the untransformed program
# changed knobs: compiler=gcc opt=O1 L4.parallel=on L6.parallel=on L8.parallel=on L10.parallel=on L12.parallel=on L14.parallel=on L5.unroll=2 L7.unroll=2 L9.unroll=1 L11.unroll=8 L13.unroll=2 L15.unroll=8
set -e
here="$(cd "$(dirname "$0")" && pwd)"
/usr/bin/gcc -O1 -fopenmp -DMEDIUM_DATASET -DPOLYBENCH_TIME -DPOLYBENCH_DUMP_ARRAYS -I/work/main/build/polybench/polybench-c-4.2.1/medley/deriche -I/work/main/build/polybench/polybench-c-4.2.1/utilities -I/work/main/autotune/include "$here/best_variant.c" /work/main/build/polybench/polybench-c-4.2.1/utilities/polybench.c -o "$here/best_variant" -lm
cd /work/main/build/polybench/polybench-c-4.2.1/medley/deriche  # the program runs where autotune ran it
OMP_NUM_THREADS=2 "$here/best_variant"
