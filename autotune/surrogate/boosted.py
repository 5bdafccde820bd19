"""The surrogate's prior as gradient-boosted trees: a bootstrap ensemble of LightGBM regressors.

Why trees: what decides a configuration's speedup is mostly interactions of a few columns
(a second thread pays off only when the region runs long enough; -O3 only where the loop
vectorizes), which trees split on directly and an MLP on about a thousand rows has to
discover. Measured on the committed data (experiments/transfer.py, leave-template-out and
leave-suite-kernel-out), the trees rank held-out kernels' configurations better than the MLP
ensemble with the same features. This is the cost model TVM and TenSet use for the same reason.

The encoder's embedding (hundreds of columns) is reduced to its leading principal components
on the training rows first: trees split on single columns, and a few hundred near-collinear
ones would let them memorise kernels. The trailing `tail` columns (the knob and context
features, `features.NAMES`) are kept as they are.

Each member fits a bootstrap of whole workloads (`groups`), as the MLP ensemble does, so the
spread across members says how much a prediction depends on which kernels were seen. That
spread alone is too narrow for a kernel no member saw (the MLP ensemble's covered 49% of
held-out records within one spread, not 68%), so it is calibrated: the same recipe fitted on
part of the workloads predicts the others, and the spread is scaled until the held-out errors
are standard normal in the median (`scale`).
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

PARAMS = {
    "objective": "huber",  # robust to the few records whose speedup is an outlier of the noise
    "alpha": 0.3,  # huber's threshold, in log speedup
    "learning_rate": 0.05,
    "num_leaves": 15,
    "min_data_in_leaf": 10,
    "feature_fraction": 0.8,
    "num_threads": 1,  # a few thousand rows: one thread is fast enough and leaves the other core quiet
    "deterministic": True,
    "force_row_wise": True,
    "verbose": -1,
}
ROUNDS = 300
OBJECTIVES = ("huber", "lambdarank", "rank_xendcg")  # pointwise regression, or a ranking within each workload
RANK_LEVELS = 16  # a ranking objective's relevance labels: the within-workload rank in this many levels
CALIBRATION_FOLDS = 3  # folds over workloads that calibrate the spread (fewer than this many workloads: none)


@dataclass
class Boosted:
    """Bootstrap ensemble of boosted-tree regressors of log speedup; predicts mean and spread.

    `tail`: how many trailing columns are kept as they are (the knob features); the columns
    before them (the embedding) are reduced to `components` principal components.
    `mu`/`sd` standardise the raw columns for the residual GP (`scorer.refined`), as the MLP
    ensemble's do.
    """

    d_in: int
    members: int = 5
    seed: int = 0
    tail: int | None = None  # None: every column is kept
    components: int = 16
    rounds: int = ROUNDS
    calibrate: bool = True
    objective: str = "huber"  # one of OBJECTIVES
    scale: float = 1.0  # the spread's calibration factor (fitted by `fit` when `calibrate`)
    mu: np.ndarray = field(init=False)
    sd: np.ndarray = field(init=False)

    def __post_init__(self) -> None:
        self.mu = np.zeros(self.d_in, np.float32)
        self.sd = np.ones(self.d_in, np.float32)
        self.center = np.zeros(0, np.float32)
        self.basis = np.zeros((0, 0), np.float32)
        self.boosters: list = []
        self.lines: list[tuple[float, float]] = []  # per member: score -> log speedup (ranking objectives)

    @property
    def _lead(self) -> int:
        return 0 if self.tail is None else self.d_in - self.tail

    def _x(self, X: np.ndarray) -> np.ndarray:
        X = np.asarray(X, np.float32)
        lead = self._lead
        if lead == 0:
            return X
        return np.concatenate([(X[:, :lead] - self.center) @ self.basis, X[:, lead:]], 1)

    def fit(
        self, X: np.ndarray, y: np.ndarray, groups: np.ndarray | None = None, w: np.ndarray | None = None
    ) -> Boosted:
        """Fit every member on a bootstrap of the groups (of the rows, without `groups`); `w`: row weights.

        With `calibrate` and at least CALIBRATION_FOLDS groups, the spread's `scale` is fitted on
        held-out groups first (see the module).
        """
        X = np.asarray(X, np.float32)
        w = np.ones(len(X)) if w is None else np.asarray(w, float)
        if self.calibrate and groups is not None:
            self.scale = self._calibration(X, y, np.asarray(groups), w)
        return self._fit(X, y, groups, w)

    def _calibration(self, X: np.ndarray, y: np.ndarray, groups: np.ndarray, w: np.ndarray) -> float:
        """The factor that makes held-out errors / spread standard normal in the median (1 if too few groups)."""
        names = np.unique(groups)
        if len(names) < CALIBRATION_FOLDS:
            return 1.0
        fold = np.random.default_rng(self.seed + 7).permutation(len(names)) % CALIBRATION_FOLDS
        fold_of = dict(zip(names, fold, strict=True))
        where = np.array([fold_of[g] for g in groups])
        z = []
        for k in range(CALIBRATION_FOLDS):
            test = where == k
            part = Boosted(
                self.d_in, self.members, self.seed, self.tail, self.components, self.rounds, False, self.objective
            )
            part.fit(X[~test], y[~test], groups=groups[~test], w=w[~test])
            mean, std = part.predict(X[test])
            z.append(np.abs(y[test] - mean) / np.maximum(std, 1e-6))
        return float(max(np.median(np.concatenate(z)) / 0.6745, 1e-3))

    def _fit(self, X: np.ndarray, y: np.ndarray, groups: np.ndarray | None, w: np.ndarray) -> Boosted:
        import lightgbm as lgb

        self.mu = X.mean(0).astype(np.float32)
        self.sd = (X.std(0) + 1e-3).astype(np.float32)
        lead = self._lead
        if lead:
            self.center = X[:, :lead].mean(0)
            _, _, vt = np.linalg.svd(X[:, :lead] - self.center, full_matrices=False)
            self.basis = vt[: self.components].T.astype(np.float32)
        Z = self._x(X)
        gid = np.arange(len(X)) if groups is None else np.unique(np.asarray(groups), return_inverse=True)[1]
        members_of = [np.flatnonzero(gid == g) for g in range(gid.max() + 1)] if len(X) else []
        rng = np.random.default_rng(self.seed)
        self.boosters, self.lines = [], []
        ranking = self.objective != "huber"
        levels = _rank_levels(y, members_of) if ranking else None
        for m in range(self.members):
            picks = rng.integers(0, len(members_of), len(members_of))  # bootstrap sample of groups
            rows = np.concatenate([members_of[g] for g in picks])
            params = {**PARAMS, "seed": self.seed * 1000 + m}
            if ranking:  # each picked workload is one query (rows of a query are contiguous)
                params |= {"objective": self.objective, "label_gain": list(range(RANK_LEVELS))}
                params.pop("alpha")
                data = lgb.Dataset(Z[rows], levels[rows], group=[len(members_of[g]) for g in picks])
            else:
                data = lgb.Dataset(Z[rows], y[rows], weight=w[rows], free_raw_data=True)
            booster = lgb.train(params, data, num_boost_round=self.rounds)
            self.boosters.append(booster)
            if ranking:  # the score's scale is arbitrary: map it back to log speedup on the member's rows
                score = booster.predict(Z[rows], num_threads=1)
                a, b = np.polyfit(score, y[rows], 1) if np.ptp(score) > 0 else (0.0, float(np.mean(y[rows])))
                self.lines.append((float(a), float(b)))
        return self

    def predict(self, X: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        Z = self._x(X)
        preds = np.stack([b.predict(Z, num_threads=1) for b in self.boosters])
        if self.lines:
            preds = np.stack([a * p + c for p, (a, c) in zip(preds, self.lines, strict=True)])
        return preds.mean(0), preds.std(0) * self.scale

    def state(self) -> dict:
        return {
            "kind": "boosted",
            "d_in": self.d_in,
            "members": self.members,
            "seed": self.seed,
            "tail": self.tail,
            "components": self.components,
            "rounds": self.rounds,
            "calibrate": self.calibrate,
            "objective": self.objective,
            "lines": self.lines,
            "scale": self.scale,
            "mu": self.mu,
            "sd": self.sd,
            "center": self.center,
            "basis": self.basis,
            "boosters": [b.model_to_string() for b in self.boosters],
        }

    @classmethod
    def from_state(cls, st: dict) -> Boosted:
        import lightgbm as lgb

        b = cls(st["d_in"], st["members"], st["seed"], st["tail"], st["components"], st["rounds"], st["calibrate"])
        b.objective, b.lines = st.get("objective", "huber"), [tuple(x) for x in st.get("lines", [])]
        b.scale = st["scale"]
        b.mu, b.sd, b.center, b.basis = st["mu"], st["sd"], st["center"], st["basis"]
        b.boosters = [lgb.Booster(model_str=s) for s in st["boosters"]]
        return b


def _rank_levels(y: np.ndarray, members_of: list[np.ndarray]) -> np.ndarray:
    """Relevance labels for a ranking objective: each row's rank within its workload, in RANK_LEVELS levels
    (0 the slowest, RANK_LEVELS - 1 the fastest)."""
    out = np.zeros(len(y), np.int32)
    for rows in members_of:
        if len(rows) < 2:
            continue
        order = np.argsort(np.argsort(y[rows], kind="stable"), kind="stable")
        out[rows] = np.minimum((order * RANK_LEVELS) // len(rows), RANK_LEVELS - 1)
    return out
