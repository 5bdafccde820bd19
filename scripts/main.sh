#!/usr/bin/env bash
# The main job: set-up, then tune a shipped kernel with the guided search (encoder + surrogate),
# timing every candidate against the untransformed program and verifying its output.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/bootstrap.sh
KERNEL=kernels/gemm.c
.venv/bin/autotune space "$KERNEL"
# 20 measurements (the baseline included) at the SMALL size; outputs in results/gemm/
.venv/bin/autotune run "$KERNEL" -D SMALL_DATASET --strategy guided --budget 20 "$@"
