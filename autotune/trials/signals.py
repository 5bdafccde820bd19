"""Stopping a collection cleanly: a signal waits until the record being written is whole.

Why a module of its own: the handler is process-wide state that the command line
installs and the collection's writes hold off, and neither needs the other's code.
"""

from __future__ import annotations

__all__ = ["SIGNALS"]


class _Signals:
    """SIGINT and SIGTERM stop a collection, but never between a record's CSV line and its trial.

    Why: `nohup autotune collect &` starts with SIGINT ignored and is stopped
    with `kill` (SIGTERM), which would otherwise end Python without cleanup;
    a stop that lands while a record is being written waits until both copies
    of it are on disk.
    """

    def __init__(self) -> None:
        self.writing = False
        self.pending = False

    def install(self) -> None:
        import signal

        for sig in (signal.SIGINT, signal.SIGTERM):
            signal.signal(sig, self._handler)

    def _handler(self, signum, frame) -> None:
        if self.writing:
            self.pending = True
            return
        raise KeyboardInterrupt

    def __enter__(self) -> _Signals:
        self.writing = True
        return self

    def __exit__(self, *exc) -> None:
        self.writing = False
        if self.pending:
            self.pending = False
            raise KeyboardInterrupt


SIGNALS = _Signals()
