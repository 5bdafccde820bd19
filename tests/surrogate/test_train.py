"""autotune/surrogate/train.py: whose records the surrogate learns from."""

from __future__ import annotations

import pandas as pd
import pytest

from autotune import machine
from autotune.errors import UserError
from autotune.surrogate.train import MIN_RECORDS, machine_records
from autotune.trials.collect import DEFAULT_CSV


def test_records_of_one_cpu_by_default_the_one_with_the_most(tmp_path):
    data = pd.read_csv(DEFAULT_CSV, dtype=str, keep_default_na=False)
    recorded = data["cpu_model"].value_counts().index[0]
    here = machine.current().cpu_model
    assert recorded != here  # the committed records are another machine's (or this test says nothing)
    said = []
    df = machine_records(DEFAULT_CSV, say=said.append)
    assert df.attrs["cpu_model"] == recorded and set(df["cpu_model"]) == {recorded}
    assert len(said) == 1 and recorded in said[0] and here in said[0]

    mostly_here = data.copy()
    ok = mostly_here.index[(mostly_here["status"] == "ok") & (mostly_here["cpu_model"] == recorded)]
    mostly_here.loc[ok[MIN_RECORDS + 5 :], "cpu_model"] = here  # this machine now has the most
    path = tmp_path / "two-cpus.csv"
    mostly_here.to_csv(path, index=False)
    said.clear()
    mine = machine_records(path, say=said.append)
    assert mine.attrs["cpu_model"] == here and set(mine["cpu_model"]) == {here} and not said
    theirs = machine_records(path, recorded, say=said.append)
    assert theirs.attrs["cpu_model"] == recorded and 0 < len(theirs) <= MIN_RECORDS + 5 and not said

    with pytest.raises(UserError, match="usable records of Imaginary CPU.*--cpu-model"):
        machine_records(path, "Imaginary CPU")
