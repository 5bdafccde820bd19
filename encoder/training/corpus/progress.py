"""The corpus build's progress: one rich bar per source on stderr, or nothing."""

from __future__ import annotations

from typing import Any


class Progress:
    """A rich progress bar per source, or nothing."""

    def __init__(self, enabled: bool) -> None:
        self.bar: Any = None
        if enabled:
            from rich.console import Console
            from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

            self.bar = Progress(
                TextColumn("{task.description:<16}"),
                BarColumn(),
                MofNCompleteColumn(),
                TextColumn("kept {task.fields[kept]}"),
                TimeElapsedColumn(),
                console=Console(stderr=True),  # stdout stays for the summary table
                transient=False,
            )
            self.bar.start()

    def add(self, source: str, total: int | None, done: int) -> Any:
        if self.bar is None:
            return None
        return self.bar.add_task(source, total=total, completed=done, kept=0)

    def update(self, tid: Any, kept: int, advance: int = 1, total: int | None = None) -> None:
        if self.bar is not None and tid is not None:
            kw: dict[str, Any] = {"advance": advance, "kept": kept}
            if total is not None:
                kw["total"] = total
            self.bar.update(tid, **kw)

    def stop(self) -> None:
        if self.bar is not None:
            self.bar.stop()
