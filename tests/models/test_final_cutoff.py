"""An as-of date after the data end: within one horizon of it, the final models learn from the
latest labelled period the data hold (its labels end on the last purchase) and score every
customer as of that date with a note; beyond it, no score can be checked and ``fit_final``
refuses (the pipeline withholds the scores); the customer-table path's empty last period reads
as zero orders."""

from __future__ import annotations

import dataclasses
from datetime import date, timedelta

import numpy as np
import pytest

from custlens.config import CleaningConfig, ModelsConfig
from custlens.datasets.synthetic import synthetic
from custlens.errors import DataError
from custlens.features.query import feature_query
from custlens.io.clean import clean
from custlens.io.frames import round_floats
from custlens.io.load import load
from custlens.models.model_rows import feature_rows
from custlens.models.scoring import final_cutoff, final_cutoff_note, fit_final

CONFIG = ModelsConfig(n_estimators=20)
H = CONFIG.horizon_days


@pytest.fixture(scope="module")
def data():
    c = clean(load(synthetic(300, seed=5).orders).table, CleaningConfig())
    # the last purchase date, read straight from the lines (not through the code under test)
    stamps = c.purchases.filter(c.purchases.customer_id.notnull()).order_ts.to_pandas()
    return c, stamps.max().date()


def _customers_before(c, as_of: date) -> int:
    p = c.purchases.filter(c.purchases.customer_id.notnull())
    return int(p.filter(p.order_ts < as_of).customer_id.nunique().to_pyarrow().as_py())


@pytest.mark.parametrize(
    ("as_of_after_last", "cutoff_after_last"),
    [
        (1, -H),  # the default as-of date (the day after the last purchase): the period ends
        # the day before it, on the last purchase
        (-39, -40 - H),  # an as-of date inside the data: likewise
        (30, -H),  # within one horizon after the end: the labels end on the last purchase
        (200, -H),  # beyond a horizon after it: likewise
    ],
)
def test_final_cutoff_hand_values(data, as_of_after_last, cutoff_after_last):
    c, last = data
    as_of = last + timedelta(days=as_of_after_last)
    assert final_cutoff(c.purchases, as_of, H) == last + timedelta(days=cutoff_after_last)


def test_as_of_after_the_data_end_scores_with_the_latest_recorded_period(data):
    c, last = data
    as_of = last + timedelta(days=60)  # within one horizon after the data end
    models, scores = fit_final(c.purchases, c.returns, as_of=as_of, config=CONFIG)
    # the latest cutoff whose 90 days of labels are all recorded: the last purchase - 90 days
    assert models.train_cutoff == last - timedelta(days=H)
    assert models.as_of == as_of
    assert len(scores) == _customers_before(c, as_of) and scores["customer_id"].is_unique
    assert scores["churn_probability"].between(0, 1).all()
    assert np.isfinite(scores["clv"]).all()
    note = final_cutoff_note(models, last)
    assert note is not None
    assert f"comes 60 days after the last purchase ({last})" in note
    assert f"features up to {last - timedelta(days=H)}, labels to {last}" in note
    assert "counting the 59 days in between as days without orders" in note
    default = dataclasses.replace(
        models, as_of=last + timedelta(days=1), train_cutoff=last - timedelta(days=H)
    )
    assert final_cutoff_note(default, last) is None


def test_as_of_more_than_a_horizon_after_the_data_end_is_refused(data):
    # the days between the last purchase and the as-of date (after - 1) exceed the horizon:
    # nothing the data hold can check a score there (the pipeline withholds the scores)
    c, last = data
    as_of = last + timedelta(days=H + 1)  # exactly 90 days in between: the last one scored
    models, scores = fit_final(c.purchases, c.returns, as_of=as_of, config=CONFIG)
    assert models.as_of == as_of and scores["churn_probability"].notna().all()
    for after in (H + 2, 200):
        as_of = last + timedelta(days=after)
        with pytest.raises(DataError, match=f"No customer can be scored as of {as_of}"):
            fit_final(c.purchases, c.returns, as_of=as_of, config=CONFIG)


def test_rows_from_the_customer_table_when_the_last_period_is_empty(data):
    c, last = data
    as_of = last + timedelta(days=H + 60)  # no purchase in the 90 days before it
    table = feature_query(c.purchases, c.returns, as_of, behavioral=True).table
    known = round_floats(table.order_by("customer_id").to_pandas())
    rows = feature_rows(c.purchases, c.returns, as_of, CONFIG, known=known)
    assert rows.added is not None  # built from the customer table
    got = rows.select(["customer_id", "last_period_orders", "last_period_revenue"])
    assert got["customer_id"].tolist() == known["customer_id"].tolist()
    assert (got["last_period_orders"] == 0).all() and (got["last_period_revenue"] == 0).all()
