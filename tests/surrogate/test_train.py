"""autotune/surrogate/train.py: whose records the surrogate learns from."""

from __future__ import annotations

import pandas as pd
import pytest

from autotune import machine
from autotune.errors import UserError
from autotune.surrogate.train import MIN_RECORDS, machine_records
from autotune.trials.collect import DEFAULT_CSV


def test_records_of_one_cpu_this_machines_when_it_has_enough(tmp_path):
    data = pd.read_csv(DEFAULT_CSV, dtype=str, keep_default_na=False)
    recorded = data["cpu_model"].value_counts().index[0]
    said = []
    df = machine_records(DEFAULT_CSV, say=said.append)  # none of this machine's: the CPU with the most
    assert df.attrs["cpu_model"] == recorded and set(df["cpu_model"]) == {recorded}
    assert len(said) == 1 and recorded in said[0] and machine.current().cpu_model in said[0]

    here = data.copy()
    ok = here.index[here["status"] == "ok"][: MIN_RECORDS + 5]
    here.loc[ok, "cpu_model"] = machine.current().cpu_model
    path = tmp_path / "two-cpus.csv"
    here.to_csv(path, index=False)
    said.clear()
    mine = machine_records(path, say=said.append)
    assert mine.attrs["cpu_model"] == machine.current().cpu_model and not said
    assert 0 < len(mine) <= MIN_RECORDS + 5
    assert machine_records(path, recorded, say=said.append).attrs["cpu_model"] == recorded

    with pytest.raises(UserError, match="usable records of Imaginary CPU.*--cpu-model"):
        machine_records(path, "Imaginary CPU")
