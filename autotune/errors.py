"""Errors a user can act on.

Why one class: the CLI turns every UserError into one line and a non-zero exit,
never a traceback. Anything else escaping is a bug in autotune.
"""

from __future__ import annotations


class UserError(Exception):
    """Bad input: the message names the file and the fix."""

    def __init__(self, message: str, exit_code: int = 2) -> None:
        super().__init__(message)
        self.exit_code = exit_code
