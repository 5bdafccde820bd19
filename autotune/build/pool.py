"""Compiles side by side, before anything is timed.

Why: a batch's candidates are built one after another while the machine's other cores
wait, and a single Polly build can take minutes (a generated 2-D stencil: over three at
-O3 with tiling on this machine), followed by the same compile again for its IR. Run on
every usable core, a batch's builds and IRs take as long as the slowest of them.

Why threads: the work is in compiler subprocesses, which threads wait on in parallel.
Nothing here may overlap a timed run: callers finish the pool before measuring.
A Ctrl-C or SIGTERM in the main thread kills the compiles the workers started
(`cache.stop_compiles`) rather than leaving them to run on for minutes.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor, wait
from typing import TypeVar

from autotune.build.cache import stop_compiles
from autotune.machine import usable_cores

T = TypeVar("T")


def side_by_side(tasks: Sequence[Callable[[], T]], workers: int | None = None) -> list[T]:
    """Each task's result, in order; at most `workers` (default: the usable cores) at once.

    A task's exception is raised here, after the others finished; an interruption of the
    caller kills every compile still running and is raised as it came.
    """
    n = min(len(tasks), workers or usable_cores())
    if n <= 1:
        return [t() for t in tasks]
    ex = ThreadPoolExecutor(n, thread_name_prefix="autotune-build")
    futures = []
    try:
        futures = [ex.submit(t) for t in tasks]
        wait(futures)
    except BaseException:  # Ctrl-C, or a signal turned exception, while the workers compile
        for f in futures:
            f.cancel()
        stop_compiles()
        raise
    finally:
        ex.shutdown(wait=True)
    return [f.result() for f in futures]
