"""Trials: what one measurement leaves behind, and the resumable recorders that keep it.

Modules, one job each: `records` (the flat, serialisable form of a measurement and of a space,
and the one `config_key`), `recorder` (the one resumable append-only CSV: resume, repair of a
half-written row, machine and protocol checks, fsync), `collect` (what `autotune collect` runs:
the measurement database the surrogate learns from), `replay` (recorded measurements served back
through the `Measurer` protocol), `db/` (the measurement database: one SQL schema for every
measurement `run`, `measure` and `collect` make, SQLite by default or any SQLAlchemy URL).
"""
