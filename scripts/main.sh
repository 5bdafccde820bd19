#!/usr/bin/env bash
# The main job: set-up, then show what autotune finds in a shipped kernel and
# measure one variant of it against the untransformed program.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/bootstrap.sh
KERNEL=kernels/gemm.c
.venv/bin/autotune space "$KERNEL"
# -march=native and a 4-way interleave of the innermost j loop of the i-k-j product, at MEDIUM
.venv/bin/autotune measure "$KERNEL" -D MEDIUM_DATASET --set march_native=on --set L10.interleave=4 "$@"
