#!/usr/bin/env bash
# The main job: set-up, then show what autotune finds in a shipped kernel and
# measure one variant of it against the untransformed program.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/bootstrap.sh
KERNEL=kernels/gemm.c
.venv/bin/autotune space "$KERNEL"
# a 3-D tile of the i-k-j product nest and a dynamic schedule, at the MEDIUM size
.venv/bin/autotune measure "$KERNEL" -D MEDIUM_DATASET \
  --set L8.tile1=32 --set L8.tile2=64 --set L8.tile3=256 --set L8.schedule=dynamic "$@"
