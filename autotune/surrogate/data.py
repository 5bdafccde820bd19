"""Features of measured (or candidate) variants: IR embedding, its change from the baseline, knobs.

Why the baseline's embedding too: a speedup is relative to the untransformed
program, so what predicts it is what the knobs changed in the IR (the
difference of embeddings) as well as what kind of program it is (the
baseline's embedding).

A variant whose IR cannot be built (clang rejects it, or the encoder refuses it)
has no embedding: its embedding columns are zeros, which are not an embedding,
so the featurizer marks those rows (`Featurizer.no_embedding`) for the trainer,
the scorer and the prediction table to see.
"""

from __future__ import annotations

import io
import json
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from autotune.build.ir import IRGenError, variant_ir
from autotune.kernel import Kernel
from autotune.measure.profile import OmpProfile, profile
from autotune.space import Config, Space
from autotune.surrogate.features import ir_counts, knob_features
from autotune.surrogate.region import region_ir
from autotune.trials.records import config_key
from autotune.trials.workloads import Workload
from autotune.variant import make_variant

CI_MISSED = ("keep", "downweight", "drop")  # what the trainer does with records whose CI missed its target


def is_database(source: str | Path) -> bool:
    """A SQLAlchemy URL names the measurement database; anything else is a collect CSV."""
    return "://" in str(source)


def load_records(source: str | Path) -> pd.DataFrame:
    """The records of a collect CSV, or of the measurement database when `source` is a URL, as one frame.

    Columns: the collect CSV's (autotune/data/README.md; a database is read through the same
    format, so both give the same frame), `config` parsed, `log_speedup` for the measured ones,
    and `ci_met`: the CI met its target (the database's flag; for a CSV, collect's default target).
    """
    from autotune.trials.db.schema import DEFAULT_CI_TARGET, ci_met

    if is_database(source):
        from autotune.trials.db.csvio import collect_csv_text
        from autotune.trials.db.store import Store

        rows = Store.open(str(source), existing=True).rows()
        df = pd.read_csv(io.StringIO(collect_csv_text(rows)), dtype={"ir_hash": str, "build_key": str})
        met = [r["ci_met"] for r in rows]
    else:
        df = pd.read_csv(source, dtype={"ir_hash": str, "build_key": str})
        met = [
            ci_met(float(sp), lo, hi, DEFAULT_CI_TARGET) if st == "ok" and sp == sp else None
            for st, sp, lo, hi in zip(
                df["status"], df["speedup"], _floats(df["ci_low"]), _floats(df["ci_high"]), strict=True
            )
        ]
    df["config"] = df["config"].map(json.loads)
    ok = df["status"] == "ok"
    df["log_speedup"] = np.where(ok, np.log(df["speedup"].where(ok, 1.0).astype(float)), np.nan)
    df["ci_met"] = pd.array(met, dtype="boolean")  # <NA> where nothing was measured
    return df


def _floats(col: pd.Series) -> list[float | None]:
    return [None if v != v else float(v) for v in col]  # NaN (an empty cell) is no value


def weights(df: pd.DataFrame, ci_missed: str = "keep", weight: float = 0.5) -> np.ndarray:
    """A training weight per record: 1, or `weight` where the CI missed its target (`ci_missed="downweight"`).

    `ci_missed`: keep (every record weighs 1: what the shipped surrogate was trained with),
    downweight, or drop (weight 0: the trainer leaves those records out).
    """
    if ci_missed not in CI_MISSED:
        raise ValueError(f"ci_missed={ci_missed!r}: one of {', '.join(CI_MISSED)}")
    missed = df["ci_met"].eq(False).fillna(False).to_numpy(bool)  # <NA>: nothing measured, nothing missed
    w = np.ones(len(df))
    if ci_missed == "downweight":
        w[missed] = weight
    elif ci_missed == "drop":
        w[missed] = 0.0
    return w


@dataclass
class Featurizer:
    """Embeds variants of suite kernels (or any kernel) with one encoder, caching by IR hash.

    `embedder` is an `encoder.embedding.Embedder` (the shipped weights, or a
    random-init control); `None` gives knob features only. `region` (the default) embeds
    the IR of the tuned region (`autotune.surrogate.region`), not the whole module.

    `no_embedding` is recorded beside the features of every `embeddings`,
    `features` and `database` call: one boolean per row of that call, True where
    the variant had no IR, so its embedding columns are zeros rather than an
    embedding (always False without an embedder, which has no such columns).
    """

    embedder: object | None
    jobs: int = 2
    region: bool = True
    no_embedding: np.ndarray = field(default_factory=lambda: np.zeros(0, bool))
    _kernels: dict[tuple[str, str], tuple[Kernel, Space]] = field(default_factory=dict)
    _base: dict[int, np.ndarray] = field(default_factory=dict)
    _base_counts: dict[int, np.ndarray] = field(default_factory=dict)
    # per kernel, per configuration key: its embedding-and-counts row, None where it had no IR
    _rows: dict[int, dict[str, np.ndarray | None]] = field(default_factory=dict)
    _profiles: dict[int, OmpProfile | None] = field(default_factory=dict)

    @property
    def dim(self) -> int:
        from autotune.surrogate.features import COUNT_NAMES, NAMES

        return len(NAMES) + (2 * self.embedder.dim + 2 * len(COUNT_NAMES) if self.embedder is not None else 0)

    @property
    def tail(self) -> int:
        """The trailing columns that are not the embedding: IR counts and knob features (`dim` without it)."""
        from autotune.surrogate.features import COUNT_NAMES, NAMES

        return len(NAMES) + (2 * len(COUNT_NAMES) if self.embedder is not None else 0)

    def suite(self, kernel: str, size: str) -> tuple[Kernel, Space]:
        from autotune.space.discover import build_space

        key = (kernel, size)
        if key not in self._kernels:
            k = Workload.named(kernel, size).load()
            self._kernels[key] = (k, build_space(k))
        return self._kernels[key]

    def profile(self, kernel: Kernel, space: Space) -> OmpProfile | None:
        """The untransformed program's OpenMP profile (`autotune.measure.profile`), once per kernel."""
        kid = id(kernel)
        if kid not in self._profiles:
            self._profiles[kid] = profile(kernel, space)
        return self._profiles[kid]

    def _irs(self, kernel: Kernel, space: Space, configs: Sequence[Config]) -> list[str | None]:
        from encoder import ir as irmod
        from encoder.embedding import check_embeddable

        def one(c: Config) -> str | None:
            try:
                text = irmod.normalize(variant_ir(kernel, make_variant(kernel, space, c)))
                if self.region:
                    text = region_ir(text)
                check_embeddable(text, str(kernel.path))  # too big or no function: no embedding either
                return text
            except (IRGenError, irmod.IRError):
                return None

        with ThreadPoolExecutor(self.jobs) as ex:  # clang runs in subprocesses: threads suffice
            return list(ex.map(one, configs))

    def embeddings(self, kernel: Kernel, space: Space, configs: Sequence[Config]) -> np.ndarray:
        """[n, 2e + 2c]: each variant's embedding and its difference from the baseline's, then the
        baseline's IR opcode counts and the variant's change of them (`features.ir_counts`).

        Where the variant has no IR: zero embedding columns and no change of counts;
        `self.no_embedding` marks those rows.
        """
        assert self.embedder is not None
        kid = id(kernel)
        if kid not in self._base:
            (base_ir,) = self._irs(kernel, space, [space.default()])
            if base_ir is None:
                raise IRGenError(f"{kernel.path}: no IR for the untransformed program")
            self._base[kid] = self.embedder.embed_normalized([base_ir])[0]
            self._base_counts[kid] = ir_counts(base_ir)
        base, base_counts = self._base[kid], self._base_counts[kid]
        # Why remembered: the guided scorer featurizes the study's whole history on every proposal;
        # rebuilding and re-counting the same IRs was a third of its time (clang's cache or not)
        memo = self._rows.setdefault(kid, {})
        keys = [config_key(c) for c in configs]
        todo = list({k: c for k, c in zip(keys, configs, strict=True) if k not in memo}.items())
        irs = self._irs(kernel, space, [c for _, c in todo])
        have = [t for t in irs if t is not None]
        vecs = iter(self.embedder.embed_normalized(have) if have else [])
        e, c = len(base), len(base_counts)
        for (k, _), ir in zip(todo, irs, strict=True):
            if ir is None:
                memo[k] = None
                continue
            v = next(vecs)
            memo[k] = np.concatenate([v, v - base, base_counts, ir_counts(ir) - base_counts]).astype(np.float32)
        rows = [memo[k] for k in keys]
        self.no_embedding = np.array([r is None for r in rows], bool)
        out = np.zeros((len(configs), 2 * e + 2 * c), np.float32)
        out[:, 2 * e : 2 * e + c] = base_counts
        for i, r in enumerate(rows):
            if r is not None:
                out[i] = r
        return out

    def features(
        self, kernel: Kernel, space: Space, configs: Sequence[Config], cores: int, baseline_s: float | Sequence[float]
    ) -> np.ndarray:
        """[n, dim]: embeddings and IR counts (see `embeddings`) then knob features; `self.no_embedding`
        marks rows without IR.

        `baseline_s`: the untransformed program's region time, one for all rows or one per row.
        """
        base = np.broadcast_to(np.asarray(baseline_s, float), (len(configs),))
        prof = self.profile(kernel, space) if configs else None
        knobs = (
            np.stack([knob_features(space, c, cores, float(b), prof) for c, b in zip(configs, base, strict=True)])
            if configs
            else np.zeros((0, 0))
        )
        if self.embedder is None:
            self.no_embedding = np.zeros(len(configs), bool)
            return knobs.astype(np.float32)
        return np.concatenate([self.embeddings(kernel, space, configs), knobs], 1).astype(np.float32)

    def current(self, df: pd.DataFrame) -> np.ndarray:
        """Rows whose configuration the kernel's space still expresses (boolean mask).

        A record measured before discovery changed (say, a hint on a loop that
        is now known to be collapsed) set a knob the space no longer has; its IR
        cannot be rebuilt, so it cannot teach the surrogate.
        """
        keep = np.ones(len(df), bool)
        for (kernel, size), rows in df.groupby(["kernel", "size"], sort=True):
            _, space = self.suite(kernel, size)
            names = {k.name for k in space.knobs}
            for i, changed in zip(rows.index, rows["changed"], strict=True):
                keep[i] = set(json.loads(changed)) <= names  # every knob it changed still exists
        return keep

    def database(self, df: pd.DataFrame) -> np.ndarray:
        """Features of every row of a database frame, in row order; `self.no_embedding` marks rows without IR."""
        out = np.zeros((len(df), self.dim), np.float32)
        missing = np.zeros(len(df), bool)
        for (kernel, size), rows in df.groupby(["kernel", "size"], sort=True):
            k, space = self.suite(kernel, size)
            cores = int(rows["cores"].iloc[0]) if "cores" in rows else 2
            base = rows["baseline_s"].astype(float).to_numpy()
            out[rows.index.to_numpy()] = self.features(k, space, list(rows["config"]), cores, base)
            missing[rows.index.to_numpy()] = self.no_embedding
        self.no_embedding = missing
        return out


def with_anchors(df: pd.DataFrame, featurizer: Featurizer | None = None) -> pd.DataFrame:
    """`df` and, per kernel and size, one row for its default configuration: speedup 1 by definition.

    Why: a speedup is measured against the untransformed program, so every workload has one
    exactly known point, the default, at log speedup 0. With it a workload of one measured
    record still gives a within-workload comparison (better or worse than doing nothing), which
    is what the ranking loss learns from. Its baseline time is the median of the workload's.
    Anchor rows have `anchor` True (the measured ones False), the default's `changed` ({}) and,
    where the frame marks slowed records, `slowed` False.
    The workloads' spaces come from `featurizer` (its cache: the caller featurizes the same
    workloads next), or a fresh one.
    """

    fz = featurizer or Featurizer(None)
    rows = []
    for (kernel, size), g in df.groupby(["kernel", "size"], sort=True):
        default = fz.suite(kernel, size)[1].default()
        base_s = float(g["baseline_s"].astype(float).median())
        first = g.iloc[0].to_dict()
        first.update(
            config=default,
            changed="{}",
            config_key=config_key(default),
            speedup=1.0,
            log_speedup=0.0,
            ci_low=1.0,
            ci_high=1.0,
            baseline_s=base_s,
            candidate_s=base_s,
            ci_met=True,
            slowed=False,  # (`train.slowed`, where the frame has it) the anchor was not timed at all
            index=-1,
            ir_hash="",  # not the first record's: the anchor was never built under that name
            build_key="",
            message="anchor: the default configuration, speedup 1 by definition",
        )
        rows.append(first)
    anchors = pd.DataFrame(rows, columns=df.columns)
    anchors["anchor"] = True
    out = pd.concat([df.assign(anchor=False), anchors], ignore_index=True)
    out["ci_met"] = out["ci_met"].astype("boolean")
    return out
