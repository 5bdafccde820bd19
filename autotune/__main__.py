"""`python -m autotune ...` is `autotune ...` (e.g. `python -m autotune collect --hours 1`)."""

import sys

from autotune.cli import main

sys.exit(main())
