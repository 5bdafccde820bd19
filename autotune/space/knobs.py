"""Search spaces: knobs, their choices, and the conditions between them.

Why conditions and not a filter: a filter over a product space wastes
proposals on invalid points and makes the space size meaningless. Here a knob
may be *active* only when other knobs take certain values (a chunk only with a
schedule that takes one, Polly options only with Polly on, loop hints only
with clang). An inactive knob is pinned to its default, so every valid
configuration has exactly one canonical form, the size is an exact count, and
a strategy can never propose two spellings of the same program.

A knob's conditions are ANDed; one condition may itself be an `AnyOf` of
plain conditions (ORed). Why OR exists at all: the thread count of a program
without OpenMP matters exactly when *some* parallelization knob is on (one
loop's `parallel for`, or Polly's `-polly-parallel`); without OR the only
exact encodings are a global switch with wasted "on, but nothing parallel"
points, which break the one-spelling-per-program rule.
"""

from __future__ import annotations

import random
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from typing import Literal

Value = int | str
Config = dict[str, Value]
KnobKind = Literal["env", "source", "flag"]


@dataclass(frozen=True)
class Condition:
    """`knob` must take one of `values` for the dependent knob to be active."""

    knob: str
    values: frozenset[Value]

    def holds(self, config: Mapping[str, Value]) -> bool:
        return config[self.knob] in self.values

    def describe(self) -> str:
        vals = sorted(self.values, key=str)
        return f"{self.knob}={vals[0]}" if len(vals) == 1 else f"{self.knob} in {{{', '.join(map(str, vals))}}}"

    @property
    def knobs(self) -> tuple[str, ...]:
        """The knobs this condition reads."""
        return (self.knob,)


@dataclass(frozen=True)
class AnyOf:
    """At least one of `conditions` must hold (an OR of plain conditions)."""

    conditions: tuple[Condition, ...]

    def __post_init__(self) -> None:
        if not self.conditions:
            raise ValueError("AnyOf needs at least one condition")

    def holds(self, config: Mapping[str, Value]) -> bool:
        return any(c.holds(config) for c in self.conditions)

    def describe(self) -> str:
        return " or ".join(c.describe() for c in self.conditions)

    @property
    def knobs(self) -> tuple[str, ...]:
        return tuple(dict.fromkeys(c.knob for c in self.conditions))


Requirement = Condition | AnyOf


@dataclass(frozen=True)
class Knob:
    """One tunable decision.

    kind says what a change costs: `env` needs no rebuild, `source` rewrites the
    program, `flag` changes the compile command.
    """

    name: str
    kind: KnobKind
    choices: tuple[Value, ...]
    default: Value
    doc: str = ""
    conditions: tuple[Requirement, ...] = ()
    site: str = ""  # where in the program (function:line), empty for global knobs
    define: str | None = None  # for parameters: the macro that -D sets

    def __post_init__(self) -> None:
        if self.default not in self.choices:
            raise ValueError(f"knob {self.name}: default {self.default!r} not among its choices")

    def active(self, config: Mapping[str, Value]) -> bool:
        return all(c.holds(config) for c in self.conditions)

    def parse(self, text: str) -> Value:
        """Turn command-line text into one of the choices, or raise ValueError."""
        for c in self.choices:
            if str(c) == text:
                return c
        raise ValueError(f"{text!r} is not a choice of {self.name}; choose one of: {', '.join(map(str, self.choices))}")


class InvalidConfig(ValueError):
    """A configuration outside the space (unknown knob, bad value, inactive knob set)."""


@dataclass
class Space:
    """An ordered set of knobs with conditions; configurations are plain dicts."""

    knobs: list[Knob]
    notes: list[str] = field(default_factory=list)

    def __post_init__(self) -> None:
        self._by_name = {k.name: k for k in self.knobs}
        if len(self._by_name) != len(self.knobs):
            raise ValueError("duplicate knob names")
        seen: set[str] = set()
        for k in self.knobs:  # parents first, so one pass resolves activity
            for c in k.conditions:
                for name in c.knobs:
                    if name not in seen:
                        raise ValueError(f"knob {k.name} depends on {name}, which must come before it")
            seen.add(k.name)

    def __getitem__(self, name: str) -> Knob:
        return self._by_name[name]

    def __contains__(self, name: object) -> bool:
        return name in self._by_name

    def __iter__(self) -> Iterator[Knob]:
        return iter(self.knobs)

    def __len__(self) -> int:
        return len(self.knobs)

    def default(self) -> Config:
        return {k.name: k.default for k in self.knobs}

    def canonical(self, config: Mapping[str, Value]) -> Config:
        """Pin inactive knobs to their defaults; fill missing knobs with defaults."""
        out: Config = {}
        for k in self.knobs:
            v = config.get(k.name, k.default)
            out[k.name] = v if k.active(out) else k.default
        return out

    def validate(self, config: Mapping[str, Value]) -> Config:
        """Return the canonical config or raise InvalidConfig with a reason a user can act on."""
        for name, value in config.items():
            if name not in self._by_name:
                raise InvalidConfig(f"unknown knob {name!r}")
            if value not in self._by_name[name].choices:
                knob = self._by_name[name]
                raise InvalidConfig(
                    f"{value!r} is not a choice of {name}; choose one of: {', '.join(map(str, knob.choices))}"
                )
        full = self.canonical(config)
        for name, value in config.items():
            if full[name] != value:
                knob = self._by_name[name]
                why = " and ".join(c.describe() for c in knob.conditions if not c.holds(full))
                raise InvalidConfig(f"{name}={value} has no effect unless {why}")
        return full

    def is_valid(self, config: Mapping[str, Value]) -> bool:
        if set(config) != set(self._by_name):
            return False
        try:
            return self.validate(config) == dict(config)
        except InvalidConfig:
            return False

    def parse_assignments(self, assignments: list[str]) -> Config:
        """`["threads=2", "L3.unroll=4"]` -> validated canonical config."""
        raw: dict[str, Value] = {}
        for a in assignments:
            if "=" not in a:
                raise InvalidConfig(f"{a!r}: expected NAME=VALUE")
            name, text = (s.strip() for s in a.split("=", 1))
            if name not in self._by_name:
                raise InvalidConfig(f"unknown knob {name!r} (see `autotune space` for the knobs of this program)")
            try:
                raw[name] = self._by_name[name].parse(text)
            except ValueError as exc:
                raise InvalidConfig(str(exc)) from None
        return self.validate(raw)

    # --- size -----------------------------------------------------------
    def size(self) -> int:
        """Exact number of distinct valid configurations.

        A sweep over the knobs in space order that keeps, instead of the values
        chosen so far, only what the later knobs' conditions have seen of them:
        one truth value per (later knob, condition), ORed as the condition's
        knobs are assigned. Configurations that agree on those truth values
        have the same future, so they are counted together. The number of
        distinct states stays small (most conditions are decided by one knob
        and many are decided together, like every `compiler=clang`), where a
        product over the controlling knobs would grow as 2^(number of
        parallel loops) for a condition that ORs them all.
        """
        # (dependent knob position, condition) for every condition, in a fixed order
        conds = [(i, c) for i, k in enumerate(self.knobs) for c in k.conditions]
        watch: dict[str, list[tuple[int, Condition]]] = {}  # knob -> (condition slot, atom on it)
        for slot, (_, c) in enumerate(conds):
            for atom in c.conditions if isinstance(c, AnyOf) else (c,):
                watch.setdefault(atom.knob, []).append((slot, atom))
        own = [[slot for slot, (i, _) in enumerate(conds) if i == pos] for pos in range(len(self.knobs))]
        states: dict[tuple[bool, ...], int] = {(False,) * len(conds): 1}
        for pos, k in enumerate(self.knobs):
            nxt: dict[tuple[bool, ...], int] = {}
            for state, count in states.items():
                active = all(state[s] for s in own[pos])
                for v in k.choices if active else (k.default,):
                    new = list(state)
                    for slot, atom in watch.get(k.name, ()):
                        new[slot] = new[slot] or v in atom.values
                    for slot in own[pos]:  # decided and used: forget, so equal futures merge
                        new[slot] = False
                    key = tuple(new)
                    nxt[key] = nxt.get(key, 0) + count
            states = nxt
        return sum(states.values())

    # --- enumeration and sampling ------------------------------------------
    def enumerate(self, limit: int | None = None) -> Iterator[Config]:
        """Every valid configuration once, in a fixed order (for small spaces)."""
        n = 0

        def rec(i: int, cfg: Config) -> Iterator[Config]:
            if i == len(self.knobs):
                yield dict(cfg)
                return
            k = self.knobs[i]
            for v in k.choices if k.active(cfg) else (k.default,):
                cfg[k.name] = v
                yield from rec(i + 1, cfg)
            cfg.pop(k.name, None)

        for cfg in rec(0, {}):
            yield cfg
            n += 1
            if limit is not None and n >= limit:
                return

    def sample(self, rng: random.Random) -> Config:
        """One valid configuration, each active knob uniform over its choices."""
        cfg: Config = {}
        for k in self.knobs:
            cfg[k.name] = rng.choice(k.choices) if k.active(cfg) else k.default
        return cfg

    def changed(self, config: Mapping[str, Value]) -> Config:
        """Only the knobs that differ from their defaults."""
        return {k.name: config[k.name] for k in self.knobs if config.get(k.name, k.default) != k.default}
