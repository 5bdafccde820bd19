"""What the command line draws while it works: the console for tables, a run's progress, load words.

Why apart from the commands: a run's progress (a rich bar on a terminal, one line per
measurement otherwise) and the words for "measured under load" are shared by `measure`
and `run`, and none of it changes what is measured or stored.
"""

from __future__ import annotations

import sys
from typing import TYPE_CHECKING, Any

from autotune.measure.load import describe

if TYPE_CHECKING:
    from rich.console import Console

    from autotune.measure import Measurement
    from autotune.search.session import Event


def console() -> Console:
    """A console for results: wide enough for the tables when stdout is not a terminal."""
    from rich.console import Console

    return Console() if sys.stdout.isatty() else Console(width=140)


def load_words(m: Measurement) -> str:
    """How busy other work kept the machine during a measurement, in words."""
    seen = [v for v in (m.load_before, m.load_during) if v is not None]
    worst = f"other work kept up to {max(seen):.0%} of the CPUs busy" if seen else "other work was seen"
    return worst + (f" (after waiting {m.load_waited:.0f} s for quiet)" if m.load_waited else "")


class RunProgress:
    """Progress of a run on stderr: a rich bar on a terminal, one line per measurement otherwise."""

    def __init__(self, name: str) -> None:
        from rich.console import Console

        self.name = name
        self.console = Console(stderr=True)
        self.live = self.console.is_terminal
        self.bar = None
        self.task = None
        self.best = "-"

    def waiting(self, busy: float, waited: float) -> None:
        """The measurement waits for a quiet machine (Bench's load check)."""
        text = f"waiting for a quiet machine: {describe(busy)} ({waited:.0f} s)"
        if self.bar is not None and self.task is not None:
            self.bar.update(self.task, description=f"tuning {self.name}: {text}")
        elif waited == 0:
            self.console.print(text, highlight=False)

    def __enter__(self) -> RunProgress:
        if self.live:
            from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

            self.bar = Progress(
                TextColumn("{task.description}"),
                BarColumn(),
                MofNCompleteColumn(),
                TextColumn("best {task.fields[best]}"),
                TimeElapsedColumn(),
                console=self.console,
            )
            self.bar.start()
            self.task = self.bar.add_task(f"tuning {self.name}", total=None, best="-")
        return self

    def __exit__(self, *exc) -> None:
        if self.bar is not None:
            self.bar.stop()

    def event(self, e: Event) -> None:
        """What the search session tells: a note, a measurement, its start and stop."""
        if e.best is not None:
            self.best = f"{e.best:.3f}x"
        if e.kind == "note":
            self.console.print(f"note: {e.message}", highlight=False, soft_wrap=True)
        elif self.bar is not None and self.task is not None and e.kind in ("start", "measured", "stop"):
            self.bar.update(self.task, completed=e.measured, total=e.target, best=self.best)
            if e.kind == "measured":
                self.bar.update(self.task, description=f"tuning {self.name}")
                if e.measurement is not None and e.measurement.under_load:
                    self.console.print(
                        f"trial {e.trial} measured under load: {load_words(e.measurement)}", highlight=False
                    )
        elif e.kind == "measured" and e.measurement is not None:
            m = e.measurement
            got = f"{m.speedup:.3f}x" if m.status == "ok" and m.speedup is not None else m.status
            of = f"/{e.target}" if e.target else ""
            changed = " ".join(f"{k}={v}" for k, v in m.changed.items()) or "(baseline)"
            load = " [under load]" if m.under_load else ""
            line = f"trial {e.trial}: {e.measured}{of} {got}{load} best {self.best}  {changed}"
            self.console.print(line, highlight=False, soft_wrap=True, markup=False)  # "[under load]" is text

    def pairs(self, done: int, est: Any) -> None:
        """Every measured pair of the measurement in progress (`est`: its running estimate, or None)."""
        if self.bar is not None and self.task is not None:
            now = f", {est.speedup:.3f}x" if est is not None else ""
            self.bar.update(self.task, description=f"tuning {self.name} ({done} pairs{now})")
