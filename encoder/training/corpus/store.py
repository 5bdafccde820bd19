"""The corpus on disk: modules, the append-only index and done log, the split, and stats.json.

Why append-only files and a done log: a build takes hours and is killed now and then; a re-run
reads what is complete (a half-written last line is dropped), skips finished jobs, and does not
count its own modules as duplicates when it redoes a job that was cut between its index rows
and its done line.
"""

from __future__ import annotations

import csv
import hashlib
import json
import platform
import subprocess
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from encoder.atomic import atomic_write_text, drop_partial_line
from encoder.training.corpus.jobs import JobResult, SourceJob

VALIDATION_PER_MILLE = 50  # about 5% of program groups
INDEX_FIELDS = ("hash", "source", "group", "variant", "split", "n_chars", "n_lines")
COUNT_KEYS = ("attempted", "compiled", "failed", "duplicates", "too_large", "kept")


def split_of(group: str, seed: int) -> str:
    """`train` or `validation`, from a hash of (seed, group): stable across runs and resumes."""
    h = int(hashlib.sha256(f"{seed}:{group}".encode()).hexdigest()[:8], 16)
    return "validation" if h % 1000 < VALIDATION_PER_MILLE else "train"


@dataclass
class CorpusStats:
    """Summary of a corpus directory (also written to `stats.json`)."""

    sources: dict[str, dict[str, float]]
    splits: dict[str, dict[str, int]]
    build_seconds: float
    seed: int
    tools: dict[str, str] = field(default_factory=dict)

    @property
    def kept(self) -> int:
        return int(sum(s.get("kept", 0) for s in self.sources.values()))

    def to_json(self) -> dict[str, Any]:
        totals = {k: int(sum(s.get(k, 0) for s in self.sources.values())) for k in COUNT_KEYS}
        return {
            "seed": self.seed,
            "sources": self.sources,
            "totals": totals,
            "splits": self.splits,
            "build_seconds": round(self.build_seconds, 1),
            "tools": self.tools,
        }


class CorpusStore:
    """The on-disk corpus: hashes seen, finished jobs, and the append-only writers."""

    def __init__(self, out_dir: Path, seed: int) -> None:
        self.out = out_dir
        self.seed = seed
        self.modules = out_dir / "modules"
        self.modules.mkdir(parents=True, exist_ok=True)
        self.index_path = out_dir / "index.csv"
        self.done_path = out_dir / "done.jsonl"
        self._check_config()
        drop_partial_line(self.index_path)
        drop_partial_line(self.done_path)
        self.owner: dict[str, tuple[str, str, str]] = {}  # hash -> (source, group, variant)
        self.index_rows: list[dict[str, str]] = []
        if self.index_path.exists():
            with self.index_path.open(newline="") as fh:
                for row in csv.DictReader(fh):
                    self.owner[row["hash"]] = (row["source"], row["group"], row["variant"])
                    self.index_rows.append(row)
        self.done: dict[tuple[str, str], dict[str, Any]] = {}
        self.kept_by_source: dict[str, int] = {}
        if self.done_path.exists():
            for line in self.done_path.read_text().splitlines():
                if line.strip():
                    rec = json.loads(line)
                    self.done[(rec["source"], rec["key"])] = rec
                    self.kept_by_source[rec["source"]] = self.kept_by_source.get(rec["source"], 0) + rec.get("kept", 0)
        prev: dict[str, Any] = {}
        stats_path = out_dir / "stats.json"
        if stats_path.exists():
            try:
                prev = json.loads(stats_path.read_text())
            except json.JSONDecodeError:
                prev = {}
        self.prev_build_seconds = float(prev.get("build_seconds", 0.0))
        self.prev_wall = {s: float(v.get("wall_seconds", 0.0)) for s, v in prev.get("sources", {}).items()}
        self.run_wall: dict[str, float] = {}
        new_index = not self.index_path.exists()
        self._index_fh = self.index_path.open("a", newline="")
        self._index = csv.DictWriter(self._index_fh, fieldnames=INDEX_FIELDS)
        if new_index:
            self._index.writeheader()
            self._index_fh.flush()
        self._done_fh = self.done_path.open("a")

    def _check_config(self) -> None:
        path = self.out / "config.json"
        if path.exists():
            cfg = json.loads(path.read_text())
            if cfg.get("seed") != self.seed:
                raise ValueError(
                    f"{self.out} was built with seed {cfg.get('seed')}, not {self.seed}: use another --out"
                )
        else:
            atomic_write_text(path, json.dumps({"seed": self.seed, "format": 1}, indent=1) + "\n")

    def close(self) -> None:
        self._index_fh.close()
        self._done_fh.close()

    def is_done(self, job: SourceJob) -> bool:
        return (job.source, job.key) in self.done

    def kept_total(self) -> int:
        return len(self.owner)

    def record(self, job: SourceJob, result: JobResult) -> dict[str, Any]:
        """Write the job's new modules, then its index rows, then its done line (in that order)."""
        counts = dict.fromkeys(COUNT_KEYS, 0)
        rows = []
        failures = []
        for r in result.results:
            counts["attempted"] += 1
            if not r.ok:
                counts["failed"] += 1
                failures.append({"variant": r.name, "error": r.error})
                continue
            counts["compiled"] += 1
            if r.too_large:
                counts["too_large"] += 1
                continue
            assert r.hash is not None and r.text is not None
            ident = (job.source, job.group, r.name)
            have = self.owner.get(r.hash)
            if have is not None and have != ident:
                counts["duplicates"] += 1
                continue
            counts["kept"] += 1
            if have == ident:  # written by a run that was killed before its done line
                continue
            path = self.modules / f"{r.hash}.ll"
            if not path.exists():
                atomic_write_text(path, r.text)
            row = {
                "hash": r.hash,
                "source": job.source,
                "group": job.group,
                "variant": r.name,
                "split": split_of(job.group, self.seed),
                "n_chars": str(len(r.text)),
                "n_lines": str(r.text.count("\n") + (0 if r.text.endswith("\n") else 1)),
            }
            self.owner[r.hash] = ident
            rows.append(row)
        if rows:
            self._index.writerows(rows)
            self._index_fh.flush()
            self.index_rows.extend(rows)
        rec: dict[str, Any] = {"source": job.source, "key": job.key, "group": job.group, **counts}
        rec["seconds"] = round(result.seconds, 3)
        if failures:
            rec["failures"] = failures[:4]
        self._done_fh.write(json.dumps(rec) + "\n")
        self._done_fh.flush()
        self.done[(job.source, job.key)] = rec
        self.kept_by_source[job.source] = self.kept_by_source.get(job.source, 0) + counts["kept"]
        return counts

    def stats(self, tools: dict[str, str], run_seconds: float) -> CorpusStats:
        sources: dict[str, dict[str, float]] = {}
        for (src, _), rec in self.done.items():
            s = sources.setdefault(src, {"tasks": 0, **dict.fromkeys(COUNT_KEYS, 0), "worker_seconds": 0.0})
            s["tasks"] += 1
            for k in COUNT_KEYS:
                s[k] += rec.get(k, 0)
            s["worker_seconds"] += rec.get("seconds", 0.0)
        for src, s in sources.items():
            s["worker_seconds"] = round(s["worker_seconds"], 1)
            s["wall_seconds"] = round(self.prev_wall.get(src, 0.0) + self.run_wall.get(src, 0.0), 1)
            s["modules_per_wall_second"] = round(s["kept"] / s["wall_seconds"], 2) if s["wall_seconds"] else 0.0
        splits: dict[str, dict[str, int]] = {}
        groups: dict[str, set[str]] = {}
        for row in self.index_rows:
            sp = splits.setdefault(row["split"], {"modules": 0, "groups": 0})
            sp["modules"] += 1
            groups.setdefault(row["split"], set()).add(row["group"])
        for sp, g in groups.items():
            splits[sp]["groups"] = len(g)
        return CorpusStats(sources, splits, self.prev_build_seconds + run_seconds, self.seed, tools)

    def write_stats(self, stats: CorpusStats) -> None:
        atomic_write_text(self.out / "stats.json", json.dumps(stats.to_json(), indent=1) + "\n")


def tool_versions() -> dict[str, str]:
    """Compiler, generator and LLVM versions, which decide what the IR looks like."""

    def first_line(cmd: list[str]) -> str:
        try:
            p = subprocess.run(cmd, capture_output=True, text=True, timeout=10)
            return (p.stdout or p.stderr).strip().splitlines()[0]
        except (OSError, subprocess.SubprocessError, IndexError):
            return "missing"

    out = {"clang": first_line(["clang-22", "--version"]), "csmith": first_line(["csmith", "--version"])}
    try:
        import llvmlite
        import llvmlite.binding as llvm

        out["llvmlite"] = llvmlite.__version__
        out["llvm"] = ".".join(map(str, llvm.llvm_version_info))
        out["host_cpu"] = llvm.get_host_cpu_name()  # what -march=native meant for the suite variants
    except Exception:  # versions are informational
        pass
    out["python"] = platform.python_version()
    return out
