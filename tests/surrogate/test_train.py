"""autotune/surrogate/train.py: whose records the surrogate learns from."""

from __future__ import annotations

import re

import pandas as pd
import pytest

from autotune import machine
from autotune.errors import UserError
from autotune.surrogate.train import CPU_SEPARATOR, MIN_RECORDS, machine_records
from autotune.trials.collect import DEFAULT_CSV


def test_records_of_every_cpu_by_default_or_of_one(tmp_path):
    data = pd.read_csv(DEFAULT_CSV, dtype=str, keep_default_na=False)
    usable = data[(data["status"] == "ok") & (data["verified"] == "1")]
    cpus = list(usable["cpu_model"].value_counts().index)
    assert len(cpus) >= 2  # the committed suite records are two machines'
    said = []
    pooled = machine_records(DEFAULT_CSV, say=said.append)
    assert set(pooled["cpu_model"]) == set(cpus) and pooled.attrs["cpu_model"] == CPU_SEPARATOR.join(cpus)
    assert (machine.current().cpu_model in cpus) == (not said)  # said only when this machine has none
    for cpu in cpus:
        one = machine_records(DEFAULT_CSV, cpu, say=said.append)
        assert set(one["cpu_model"]) == {cpu} and one.attrs["cpu_model"] == cpu
    assert sum(len(machine_records(DEFAULT_CSV, c)) for c in cpus) == len(pooled)

    elsewhere = usable.assign(cpu_model="Imaginary CPU")  # a database of another machine alone
    path = tmp_path / "elsewhere.csv"
    elsewhere.to_csv(path, index=False)
    said.clear()
    theirs = machine_records(path, say=said.append)
    assert theirs.attrs["cpu_model"] == "Imaginary CPU" and len(said) == 1 and "Imaginary CPU" in said[0]
    with pytest.raises(UserError, match=f"usable records of {re.escape(machine.current().cpu_model)}.*--cpu-model"):
        machine_records(path, machine.current().cpu_model)
    with pytest.raises(UserError, match="usable records"):
        few = tmp_path / "few.csv"
        usable.head(MIN_RECORDS - 1).to_csv(few, index=False)
        machine_records(few)
