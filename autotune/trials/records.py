"""Flat, serialisable forms of measurements and search spaces.

Why one module: the same record travels through three places, Optuna trial
user attributes (the source of truth), `trials.csv` (for people and
spreadsheets) and the replay cache (recorded measurements served back to the
search logic in tests and experiments). One conversion each way keeps them
from drifting apart.
"""

from __future__ import annotations

import json
import math
from collections.abc import Mapping
from typing import Any

from autotune.measure import Measurement
from autotune.space import AnyOf, Condition, Knob, Requirement, Space

# Scalar Measurement fields, in the order trials.csv and the replay cache show them.
FIELDS: tuple[str, ...] = (
    "status",
    "speedup",
    "ci_lo",
    "ci_hi",
    "verified",
    "baseline_seconds",
    "candidate_seconds",
    "repetitions",
    "timing",
    "build_key",
    "build_seconds",
    "build_cached",
    "runs",
    "harness_seconds",
    "run_wall_seconds",
    "stop_reason",
    "timer_fallback",
    "load_before",
    "load_during",
    "load_waited",
    "under_load",
    "message",
)
LIST_FIELDS: tuple[str, ...] = ("baseline_times", "candidate_times")


def config_key(config: Mapping[str, Any]) -> str:
    """A canonical string for a (canonical) configuration: the identity of a measurement.

    JSON keeps 4 and "4" apart, and sorting the names makes the key independent of
    the order a sampler suggested the knobs in.
    """
    return json.dumps(dict(config), sort_keys=True, separators=(",", ":"))


def measurement_attrs(m: Measurement) -> dict[str, Any]:
    """Every Measurement field as JSON-serialisable trial user attributes."""
    d = m.to_dict()
    ci = d.pop("ci")
    d["ci_lo"], d["ci_hi"] = (ci[0], ci[1]) if ci else (None, None)
    d["changed"] = dict(m.changed)
    d["config"] = dict(m.config)
    return d


def flat_row(attrs: Mapping[str, Any], space: Space) -> dict[str, Any]:
    """One CSV row: knob columns (canonical config), then the scalar fields, then times as JSON."""
    cfg = space.canonical(attrs.get("config", {}))
    row: dict[str, Any] = {k.name: cfg[k.name] for k in space}
    for f in FIELDS:
        row[f] = attrs.get(f)
    for f in LIST_FIELDS:
        row[f] = json.dumps(attrs.get(f) or [])
    row["cpu_model"] = (attrs.get("machine") or {}).get("cpu_model", "")
    return row


def _num(v: Any) -> float | None:
    if v is None or v == "":
        return None
    f = float(v)
    return None if math.isnan(f) else f


def _bool(v: Any) -> bool:
    return v if isinstance(v, bool) else str(v).strip().lower() in ("true", "1")


def measurement_from_row(row: Mapping[str, Any], space: Space, machine: Mapping[str, Any] | None = None) -> Measurement:
    """Rebuild a Measurement from a CSV row (values come back as text from CSV readers)."""
    cfg = space.validate({k.name: k.parse(str(row[k.name])) for k in space})
    lo, hi = _num(row.get("ci_lo")), _num(row.get("ci_hi"))
    msg = row.get("message")
    return Measurement(
        status=str(row["status"]),  # type: ignore[arg-type]
        message="" if msg is None or (isinstance(msg, float) and math.isnan(msg)) else str(msg),
        config=cfg,
        changed=space.changed(cfg),
        speedup=_num(row.get("speedup")),
        ci=(lo, hi) if lo is not None and hi is not None else None,
        baseline_seconds=_num(row.get("baseline_seconds")),
        candidate_seconds=_num(row.get("candidate_seconds")),
        repetitions=int(_num(row.get("repetitions")) or 0),
        verified=_bool(row.get("verified")) and row["status"] == "ok",  # older records marked failed runs verified
        timing=str(row.get("timing") or ""),
        baseline_times=json.loads(row.get("baseline_times") or "[]"),
        candidate_times=json.loads(row.get("candidate_times") or "[]"),
        build_seconds=_num(row.get("build_seconds")) or 0.0,
        build_cached=_bool(row.get("build_cached")),
        build_key=str(row.get("build_key") or ""),
        harness_seconds=_num(row.get("harness_seconds")) or 0.0,
        run_wall_seconds=_num(row.get("run_wall_seconds")) or 0.0,
        runs=int(_num(row.get("runs")) or 0),
        machine=dict(machine or {}),
        # fields recorded since the load and timer checks; older records lack them
        stop_reason=str(row.get("stop_reason") or ""),
        timer_fallback=_bool(row.get("timer_fallback")),
        load_before=_num(row.get("load_before")),
        load_during=_num(row.get("load_during")),
        load_waited=_num(row.get("load_waited")) or 0.0,
        under_load=_bool(row.get("under_load")),
    )


# --- spaces -------------------------------------------------------------------------
def _condition_spec(c: Requirement) -> dict[str, Any]:
    """`{"knob", "values"}` for a plain condition (the only form older specs have), `{"any": [...]}` for an OR."""
    if isinstance(c, AnyOf):
        return {"any": [_condition_spec(a) for a in c.conditions]}
    return {"knob": c.knob, "values": sorted(c.values, key=str)}


def _condition_from_spec(d: Mapping[str, Any]) -> Requirement:
    if "any" in d:
        return AnyOf(tuple(Condition(a["knob"], frozenset(a["values"])) for a in d["any"]))
    return Condition(d["knob"], frozenset(d["values"]))


def space_spec(space: Space) -> list[dict[str, Any]]:
    """The knobs as plain data: what a study's fingerprint and the replay cache record.

    A space without OR conditions gives exactly the spec it gave before OR
    existed, so fingerprints of existing studies do not change.
    """
    return [
        {
            "name": k.name,
            "kind": k.kind,
            "choices": list(k.choices),
            "default": k.default,
            "conditions": [_condition_spec(c) for c in k.conditions],
            "site": k.site,
            "define": k.define,
            "doc": k.doc,
        }
        for k in space
    ]


def space_from_spec(spec: list[Mapping[str, Any]]) -> Space:
    return Space(
        [
            Knob(
                name=k["name"],
                kind=k["kind"],
                choices=tuple(k["choices"]),
                default=k["default"],
                doc=k.get("doc", ""),
                conditions=tuple(_condition_from_spec(c) for c in k.get("conditions", [])),
                site=k.get("site", ""),
                define=k.get("define"),
            )
            for k in spec
        ]
    )


def restrict(space: Space, choices: Mapping[str, tuple]) -> Space:
    """A sub-space: only the named knobs, each with the given subset of its choices.

    Knobs left out keep their defaults when a variant is made, so a restricted
    space describes real programs of the same kernel. A condition on a knob that
    is left out would make the sub-space ill-defined and is refused.
    """
    names = set(choices)
    knobs = []
    for k in space:
        if k.name not in names:
            continue
        vals = tuple(choices[k.name]) or k.choices
        bad = [v for v in vals if v not in k.choices]
        if bad:
            raise ValueError(f"{k.name}: {bad} are not choices of this knob")
        if k.default not in vals:
            raise ValueError(f"{k.name}: the restricted choices must keep the default {k.default!r}")
        for c in k.conditions:
            for name in c.knobs:
                if name not in names:
                    raise ValueError(f"{k.name} depends on {name}; include it too")
        knobs.append(Knob(k.name, k.kind, vals, k.default, k.doc, k.conditions, k.site, k.define))
    missing = names - {k.name for k in knobs}
    if missing:
        raise ValueError(f"no such knobs: {', '.join(sorted(missing))}")
    return Space(knobs, list(space.notes))
