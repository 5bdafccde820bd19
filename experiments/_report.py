"""Shared helpers for experiment reports in results/."""

from __future__ import annotations

import pandas as pd


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
