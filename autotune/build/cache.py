"""Compile variants, once each: a content-hash build cache.

Why a cache keyed by content: a search proposes many configurations that
differ only in environment knobs, and resumed studies revisit old ones. The
key covers the compiler and its version, every flag, the (transformed) main
source, the extra sources and the headers beside them, so a hit is always the
binary that the same command would build now. Failures are cached too: a
configuration that does not compile will not compile the next time either.
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import tempfile
import threading
import time
from dataclasses import dataclass
from pathlib import Path

from autotune.kernel import Kernel
from autotune.paths import cache_dir as default_dir
from autotune.variant import Variant

COMPILE_TIMEOUT_S = 300


@dataclass(frozen=True)
class BuildResult:
    ok: bool
    key: str
    exe: Path | None
    source: Path  # the main file that was compiled
    command: list[str]
    log: str  # compiler diagnostics
    seconds: float
    cached: bool

    def diagnostics(self, limit: int = 12) -> str:
        """The first error lines, for a one-line message."""
        lines = [ln for ln in self.log.splitlines() if "error" in ln]
        return " | ".join((lines or self.log.splitlines() or ["(no output)"])[:limit])


def compile_once(cmd: list[str], cwd: Path, timeout: float) -> tuple[int, str]:
    """Run one compiler command; (exit status, diagnostics). Raises TimeoutExpired after `timeout`.

    Why a session of its own: the driver (`clang`, `gcc`) forks the real compiler (`clang -cc1`,
    `cc1`). Killing only the driver on a timeout, as `subprocess.run` does, leaves that child
    compiling on as an orphan for as long as it likes, on the cores the next measurement needs.
    The whole group goes, on a timeout and on any interruption.
    """
    proc = subprocess.Popen(
        cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, cwd=cwd, start_new_session=True
    )
    with _LOCK:
        _LIVE.add(proc.pid)
    try:
        out, err = proc.communicate(timeout=timeout)
    except BaseException:  # a timeout, Ctrl-C, a kill signal turned exception: nothing may outlive the build
        _kill(proc.pid)
        proc.communicate()
        raise
    finally:
        with _LOCK:
            _LIVE.discard(proc.pid)
    return proc.returncode, err + out


_LIVE: set[int] = set()  # process groups of the compiles running now (in any thread)
_LOCK = threading.Lock()


def _kill(pgid: int) -> None:
    try:
        os.killpg(pgid, signal.SIGKILL)
    except OSError:
        pass


def stop_compiles() -> None:
    """Kill every compile running now, in whatever thread started it.

    Why: a compile in a worker thread (`autotune.build.pool`) does not see the main thread's
    Ctrl-C or SIGTERM, and its compiler would run on for minutes after the program meant to stop.
    """
    with _LOCK:
        live = list(_LIVE)
    for pgid in live:
        _kill(pgid)


def _complete(folder: Path) -> bool:
    """A published build: its record, and its binary where the build succeeded."""
    try:
        meta = json.loads((folder / "build.json").read_text())
    except (OSError, ValueError):
        return False
    return not meta["ok"] or (folder / "prog").exists()


def _publish(tmp: Path, folder: Path) -> None:
    """Move a finished build into place; a build another process published first stays.

    Why: processes sharing a cache (workers of one study, collectors of one plan) often build
    the same key at once. Removing the other's folder to put ours there would delete a binary
    it may be about to run, and a rename onto a folder it has just filled fails. The same key
    is the same binary, so the first one published is kept; only an incomplete folder (a binary
    deleted by hand, an older layout) is moved aside, atomically, and replaced.
    """
    for _ in range(3):
        try:
            os.replace(tmp, folder)
            return
        except OSError:  # `folder` exists and is not empty
            if _complete(folder):
                return  # the caller removes `tmp`
            aside = Path(tempfile.mkdtemp(prefix=f".{folder.name}-stale-", dir=folder.parent))
            try:
                os.replace(folder, aside / "old")
            except FileNotFoundError:  # another process moved it aside first
                pass
            shutil.rmtree(aside, ignore_errors=True)
    os.replace(tmp, folder)  # a third race in a row: say so


class Builder:
    def __init__(self, cache_dir: Path | None = None) -> None:
        """cache_dir: where builds are kept (default $AUTOTUNE_CACHE/builds, see autotune.paths)."""
        self.cache_dir = (Path(cache_dir) if cache_dir else default_dir("builds")).resolve()

    def build(self, kernel: Kernel, variant: Variant) -> BuildResult:
        key = variant.build_key(kernel)
        folder = self.cache_dir / key
        meta_path = folder / "build.json"
        main_name = kernel.main_name
        if meta_path.exists():
            meta = json.loads(meta_path.read_text())
            exe = folder / "prog"
            if not meta["ok"] or exe.exists():
                return BuildResult(
                    ok=meta["ok"],
                    key=key,
                    exe=exe if meta["ok"] else None,
                    source=Path(meta["source"]),
                    command=meta["command"],
                    log=meta["log"],
                    seconds=meta["seconds"],
                    cached=True,
                )
        self.cache_dir.mkdir(parents=True, exist_ok=True)
        tmp = Path(tempfile.mkdtemp(prefix=f".{key}-", dir=self.cache_dir))
        try:
            if variant.source is not None:
                main_file = folder / main_name
                (tmp / main_name).write_bytes(variant.source)
            else:
                main_file = kernel.path.resolve()
            cmd = variant.compile_command(kernel, main_file, folder / "prog")  # as recorded and shown
            # compile in tmp, then move: a killed build never leaves a half binary
            tmp_main = tmp / main_name if variant.source is not None else main_file
            real_cmd = variant.compile_command(kernel, tmp_main, tmp / "prog")
            t0 = time.perf_counter()
            try:
                rc, log = compile_once(real_cmd, tmp, COMPILE_TIMEOUT_S)
                ok = rc == 0
            except subprocess.TimeoutExpired:
                log = f"compiler timed out after {COMPILE_TIMEOUT_S} s"
                return BuildResult(False, key, None, main_file, cmd, log, COMPILE_TIMEOUT_S, False)  # not cached
            except OSError as exc:
                return BuildResult(False, key, None, main_file, cmd, f"cannot run compiler: {exc}", 0.0, False)
            seconds = time.perf_counter() - t0
            meta = {"ok": ok, "source": str(main_file), "command": cmd, "log": log, "seconds": seconds}
            (tmp / "build.json").write_text(json.dumps(meta, indent=1))
            _publish(tmp, folder)
        finally:
            if tmp.exists():
                shutil.rmtree(tmp, ignore_errors=True)
        return BuildResult(ok, key, folder / "prog" if ok else None, main_file, cmd, log, seconds, False)
