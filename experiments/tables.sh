#!/usr/bin/env bash
# Regenerate the tables in results/ from their scripts (numbers are never edited by hand).
#
#   experiments/tables.sh          the data-set tables: device mapping, thread coarsening, search efficiency, and loop
#                                  vectorization from its committed measured grid (results/vectorization_grid.csv;
#                                  the grid itself is measured once by
#                                  `python -m experiments.vectorization --stage record`, hours of real timing, and
#                                  never by this script)
#   experiments/tables.sh --all    also the tables that measure this machine (A/A protocol, encoder
#                                  latency, surrogate quality); they need a quiet machine and take longer
#
# Run time on the 2-core development machine (AMD EPYC), measured 2026-11-26 while a measurement
# collection and another experiment shared the cores:
#   devmap         9 min with all six encoder rows (2026-11-26 16:38-16:47, niced beside a grid recording;
#                  the pre-trained embeddings cold, the random-init ones cached). Fully cold, embedding the
#                  ~790 IR modules with the pre-trained encoder and three random inits of each modality adds
#                  a few minutes (about 40 ms a module since the raw-pointer graph walk).
#   coarsening     0.6-1.2 min (1 torch thread, cache warm; the 17 kernels' embeddings take seconds cold)
#   search_efficiency  7-9 min: replays the committed recordings (results/search_efficiency_recordings/,
#                  measured once by `--stage record`, 53 min of real timing for 6 kernels x 96 configurations);
#                  guided's overhead column is wall time, so it wants a quiet machine
#   vectorization  predict stage only; its report states its run time (3 loops: 0.1 min, cold).
#                  300 loops, 3 seeds: 2.9 min with the embeddings cached (2026-11-27). Recording its grid
#                  (not done here) took 7.7 h of wall time for 300 loops x 35 pairs (median 45 s a loop,
#                  up to 6 min for the slowest; 2026-11-26/27, resumed across sessions).
# Each report states its own run time in its header.
set -euo pipefail
cd "$(dirname "$0")/.."
[ -f .venv/bin/activate ] && source .venv/bin/activate

# each experiment is a module of the experiments package, run from the repository root
run() { echo "== python -m $*" >&2; /usr/bin/time -f "   %e s" python -m "$@"; }

run experiments.devmap --seeds 3 --epochs 150 --random-modalities fused,text,graph
run experiments.coarsening --seeds 3 --epochs 400
run experiments.search_efficiency
run experiments.transfer --seeds 2  # from the committed collect CSVs; embeds the tuned regions (cached)
if [ -f results/vectorization_grid.csv ]; then
  run experiments.vectorization --seeds 3
else
  echo "== results/vectorization_grid.csv not recorded yet: skipping the vectorization table" >&2
fi
run experiments.ci_coverage
run experiments.polybench --report-only  # from the committed results/polybench/ outputs

if [ "${1:-}" = "--all" ]; then
  run experiments.protocol_aa
  run experiments.polybench  # tunes what is not tuned yet (resumes; about 1 h for all 30 from scratch)
  run experiments.encoder_latency --repeats 5 --windows 1,2
  run experiments.surrogate_quality --seeds 2 --members 5 --jobs 2
fi
