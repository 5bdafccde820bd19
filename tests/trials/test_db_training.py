"""The surrogate's trainer reads the measurement database as it reads the collect CSV, and decides about missed CIs."""

from __future__ import annotations

import pandas as pd

from autotune.surrogate.data import load_records, weights
from autotune.surrogate.train import training_set
from autotune.trials.collect import DEFAULT_CSV
from autotune.trials.db import csvio
from autotune.trials.db.store import Store


def test_the_database_gives_the_frame_the_csv_gives(tmp_path):
    url = f"sqlite:///{tmp_path / 'm.db'}"
    csvio.import_csv(Store.open(url), DEFAULT_CSV)
    pd.testing.assert_frame_equal(load_records(url), load_records(DEFAULT_CSV))
    cpu = load_records(DEFAULT_CSV)["cpu_model"].iloc[0]
    pd.testing.assert_frame_equal(training_set(url, cpu), training_set(DEFAULT_CSV, cpu))


def test_missed_cis_are_kept_by_default_and_dropped_or_downweighted_on_request():
    df = training_set(DEFAULT_CSV)
    missed = df["ci_met"].eq(False).to_numpy(bool)
    assert missed.sum() > (~missed).sum() > 0  # most of the committed records missed the +-2% target
    assert (weights(df) == 1).all()  # the default trains on every record alike
    assert len(training_set(DEFAULT_CSV, ci_missed="drop")) == (~missed).sum()
    w = weights(df, "downweight", 0.5)
    assert (w[missed] == 0.5).all() and (w[~missed] == 1).all()
