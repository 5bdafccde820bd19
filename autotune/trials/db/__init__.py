"""The measurement database: every measurement the product makes, in one SQL table.

Why a store of its own beside the studies: a study answers "what is the best variant of this
program"; the database answers "what did every variant of every program measure on this kind of
machine", which is what the surrogate learns from. `autotune run` and `autotune measure` append
to it by default, `autotune collect` writes each record to it as well as to its CSV, and
`autotune db` says what it holds, imports and exports the collect CSV.

Modules, one job each: `schema` (the table, and a Measurement or a collect row as one of its
records), `store` (where it is: URL, SQLite set-up, race-safe writes, passwords masked),
`csvio` (the collect CSV in and out, losslessly), `stats` (what `autotune db stats` prints).
This file imports nothing, so `collect` can use `schema` while `csvio` uses `collect`.
"""
