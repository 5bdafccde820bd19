"""The experiments behind the tables in results/ (see experiments/tables.sh and results/README.md).

Each experiment is a module run from the repository root as `python -m experiments.NAME`; none edits
sys.path. Helpers shared by several experiments live in modules named for what they hold:
`report` (markdown tables, spreads, rank correlation), `provenance` (where a table's numbers came
from; `ROOT`, the repository), `embeddings` (data-set IR and cached embeddings), `heads` (folds and
small models on frozen embeddings). An experiment too large for one module keeps its command line
and report in NAME.py and the rest in NAME_<what>.py (e.g. devmap_data, search_efficiency_runs).
"""
