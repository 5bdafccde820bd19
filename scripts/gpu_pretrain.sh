#!/usr/bin/env bash
# Pre-train the encoder on a lent GPU from a tensor pack, the way the shipped weights were made.
#
#   here:        encoder pack --run build/pretrain --out build/gpu/tensors.pack
#   on the GPU:  bash scripts/gpu_pretrain.sh build/gpu/tensors.pack OUTDIR [more pretrain args]
#                (HOURS=0.125 by default; later args override earlier ones, e.g. --init-from W.pt --lr 5e-4)
#   here again:  encoder export --run OUTDIR/run --corpus build/corpus --tensors build/pretrain/tensors
#
# The GPU machine needs python3 with torch (CUDA), torch-geometric and tokenizers; not the corpus,
# clang or llvmlite. Weights are re-exported at every checkpoint (each minute), so a lease that
# ends early still leaves OUTDIR/run/weights.pt.
set -euo pipefail
PACK=${1:-build/gpu/tensors.pack}
OUTDIR=${2:-build/gpu}
shift $(( $# < 2 ? $# : 2 ))
HOURS=${HOURS:-0.125}
export PYTHONUNBUFFERED=1 PYTHONPATH=$PWD${PYTHONPATH:+:$PYTHONPATH}
mkdir -p "$OUTDIR/run"
nvidia-smi -L || true
python3 -c "import torch, torch_geometric, tokenizers; print('torch', torch.__version__, 'pyg', torch_geometric.__version__, torch.cuda.get_device_name())"
python3 -m encoder.cli pretrain --pack "$PACK" --out "$OUTDIR/run" --device cuda --workers 12 \
    --batch 64 --lr 1e-3 --steps 1000000 --hours "$HOURS" --eval-every 500 --checkpoint-every 60 "$@" \
    2>&1 | tee "$OUTDIR/train.log"
rm -f "$OUTDIR/run/checkpoint.pt"  # 50 MB of optimiser state: not needed to export
