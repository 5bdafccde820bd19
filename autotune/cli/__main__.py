"""`python -m autotune.cli ...` is `autotune ...`."""

import sys

from autotune.cli import main

sys.exit(main())
