"""Shared helpers for the tables in results/: markdown tables, spreads over seeds, rank correlation.

Why shared: every experiment writes its table the same way, and two of them (search efficiency,
surrogate quality) report the same rank correlation; one copy of each keeps the tables comparable.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from autotune.surrogate.model import spearman  # the guided scorer's rank correlation, one copy

__all__ = ["markdown_table", "spearman", "spread"]


def markdown_table(df: pd.DataFrame) -> str:
    """A GitHub markdown table (pandas' to_markdown needs the extra `tabulate` package)."""
    cols = [str(c) for c in df.columns]
    out = ["| " + " | ".join(cols) + " |", "|" + "|".join("---" for _ in cols) + "|"]
    for row in df.itertuples(index=False):
        out.append("| " + " | ".join(_fmt(v) for v in row) + " |")
    return "\n".join(out)


def _fmt(v) -> str:
    if isinstance(v, float):
        return f"{v:.4g}"
    return str(v)


def spread(vals, scale: float = 1.0, digits: int = 3, collapse_equal: bool = False) -> str:
    """`mean (min-max)` of per-seed values, scaled; a single value (or, with `collapse_equal`,
    values that are all equal: a deterministic row) printed alone."""
    v = np.asarray(vals, dtype=float) * scale
    if len(v) == 1 or (collapse_equal and np.allclose(v, v[0])):
        return f"{v[0]:.{digits}f}"
    return f"{v.mean():.{digits}f} ({v.min():.{digits}f}-{v.max():.{digits}f})"
