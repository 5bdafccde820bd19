"""`python -m encoder.training.corpus ...`: the same as `encoder corpus ...`."""

import sys

from encoder.training.corpus.cli import main_corpus

sys.exit(main_corpus())
