"""Atomic file replacement: readers see the old file or the new one, never half of one.

Every cache and checkpoint in the project is written this way. The temporary file gets a
unique name from `mkstemp` in the target's own folder (so `os.replace` stays one rename on one
file system); a name built from the process id alone is not enough, because threads of one
process (the surrogate's featurizer runs clang from a thread pool) write the same cache entry
at the same time.
"""

from __future__ import annotations

import os
import tempfile
from collections.abc import Callable
from pathlib import Path


def _read_umask() -> int:
    mask = os.umask(0)  # the umask can only be read by setting it
    os.umask(mask)
    return mask


# read once, at import: setting it briefly while threads of this process create files would
# give their files mode 0666
_UMASK = _read_umask()


def atomic_write(path: Path, write: Callable[[Path], object]) -> None:
    """Call `write(tmp)` and rename `tmp` onto `path`; `tmp` keeps `path`'s suffix.

    Keeping the suffix matters to writers that append one when it is missing (numpy's
    `save`/`savez`). The folder is created if needed; a failed write leaves no temporary file.
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=f".tmp{path.suffix}")
    os.close(fd)
    try:
        # mkstemp makes the file private (0600); give it the mode a plain open() would (0666 less the umask)
        os.chmod(tmp, 0o666 & ~_UMASK)
        write(Path(tmp))
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def atomic_write_text(path: Path, text: str) -> None:
    """`atomic_write` for a text file."""
    atomic_write(path, lambda p: p.write_text(text))


def atomic_write_bytes(path: Path, data: bytes) -> None:
    """`atomic_write` for a binary file."""
    atomic_write(path, lambda p: p.write_bytes(data))


def drop_partial_line(path: Path) -> int:
    """Cut an append-only file back to its last complete line; returns the bytes dropped.

    Why here: a kill during an append can leave half a row, and every append-only record file
    (the corpus index, the measurement database, the replay and grid recordings) resumes from
    what is complete. `autotune` may import `encoder`, never the reverse, so the one copy lives
    on this side.
    """
    if not path.exists():
        return 0
    data = path.read_bytes()
    if not data or data.endswith(b"\n"):
        return 0
    keep = data.rfind(b"\n") + 1
    with path.open("r+b") as fh:
        fh.truncate(keep)
    return len(data) - keep
