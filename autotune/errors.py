"""Errors a user can act on.

Why one class: the CLI turns every UserError into one line and a non-zero exit,
never a traceback. Anything else escaping is a bug in autotune.

Why `option()`: the same checks serve `autotune run` and `autotune.tune()`, and
each user must read the name they typed: `--time-budget 0` on the command line,
`time_budget=0` from Python. The CLI says once, in `main()`, that it is the
caller; every message names options through `option()`.
"""

from __future__ import annotations

import contextlib
import contextvars
from collections.abc import Iterator
from typing import Any

_CLI: contextvars.ContextVar[bool] = contextvars.ContextVar("autotune_cli", default=False)


class UserError(Exception):
    """Bad input: the message names the file and the fix."""

    def __init__(self, message: str, exit_code: int = 2) -> None:
        super().__init__(message)
        self.exit_code = exit_code


class BaselineError(UserError):
    """The untransformed program cannot serve as the reference (e.g. its output changes from run to run).

    Why a class of its own: no configuration of the study can be measured against
    such a baseline, so the tuner records it on the study and every later run of
    the same study says it at once instead of measuring again.
    """


@contextlib.contextmanager
def cli_spelling() -> Iterator[None]:
    """Within this block, `option()` spells names as command-line flags."""
    token = _CLI.set(True)
    try:
        yield
    finally:
        _CLI.reset(token)


def option(name: str, value: Any = None, *, flag: str | None = None) -> str:
    """`--time-budget 0` for the CLI, `time_budget=0` for the Python API.

    name: the Python keyword; flag: the CLI flag when it is not `--` + name with dashes.
    With `value` None only the name is spelled.
    """
    if _CLI.get():
        f = flag or "--" + name.replace("_", "-")
        if value is None or value is True:  # True: a switch, the flag alone
            return f
        return f"{f} {value:g}" if isinstance(value, float) else f"{f} {value}"
    return name if value is None else f"{name}={value!r}"
