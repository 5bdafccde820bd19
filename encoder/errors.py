"""The one exception the encoder raises for bad input.

Why a module of its own: compiling (`encoder.clang`), parsing (`encoder.ir`) and embedding
(`encoder.embedding`) all raise it, and none of them should import another just for the type.
"""

from __future__ import annotations

from collections.abc import Sequence


class IRError(Exception):
    """A source did not compile, an IR text did not parse or verify, or an input cannot be read.

    `str(err)` is one line (enough for a log line, a table cell or the command line's error):
    for a file it names the file, and for bad input it says what to do instead. `log` keeps the
    full diagnostic output for debugging and `command` the clang command line, if any. It is the
    one exception type that `encoder.embed` raises for bad input.
    """

    def __init__(self, message: str, log: str = "", command: Sequence[str] = ()) -> None:
        super().__init__(message)
        self.message = message
        self.log = log or message
        self.command = list(command)
