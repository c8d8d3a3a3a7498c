"""What a `custlens score` result says about its scores: the period they cover and the settings
of the models that made them (not the scoring call's defaults)."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pandas as pd
import pytest

import custlens
from custlens.models import save_models
from custlens.pipeline import score


@pytest.fixture(scope="module")
def orders() -> pd.DataFrame:
    return custlens.datasets.synthetic(600, seed=3).orders


@pytest.fixture(scope="module")
def models_60d(orders: pd.DataFrame, tmp_path_factory) -> Path:
    """Models trained with a 60-day horizon (the default is 90)."""
    settings = custlens.Settings(analyses=["predictions"]).with_overrides(
        **{"models.horizon_days": 60}
    )
    fitted = custlens.run(orders, settings=settings)
    return save_models(fitted.stages["predictions"].models, tmp_path_factory.mktemp("m") / "m")


def test_scored_run_json_records_the_horizon_of_the_models(orders, models_60d) -> None:
    scored = score(models_60d, orders)  # default scoring settings: horizon 90
    info = scored.run_info()
    assert info["settings"]["models"]["horizon_days"] == 60
    # the synthetic log ends on 2023-12-31: as of 2024-01-01, 60 days run to 2024-02-29 (leap)
    assert scored.as_of == date(2024, 1, 1)
    window = [n for n in info["notes"] if n.startswith("predictions: scores as of")]
    assert len(window) == 1, info["notes"]
    assert "probability of no order from 2024-01-01 to 2024-02-29" in window[0]
    assert "(trained as of 2024-01-01, horizon 60 days)" in window[0]
    # a 60-day horizon is shorter than the last window edge (90 days): no next-purchase model
    assert "next_purchase_window" not in scored.customers.columns
    assert "(no next-purchase model: no next_purchase_window)" in window[0]


def test_an_as_of_after_the_data_end_is_said(orders, models_60d) -> None:
    # the log ends on 2023-12-31; as of 2024-02-05 that is 36 days later, 35 days in between
    settings = custlens.Settings().with_overrides(as_of=date(2024, 2, 5))
    notes = score(models_60d, orders, settings=settings).notes
    said = [n for n in notes if "days after the last purchase" in n]
    assert len(said) == 1, notes
    assert "comes 36 days after the last purchase (2023-12-31)" in said[0]
    assert "count the 35 days in between as days without orders" in said[0]
    # the default as-of date, the day after the last purchase, needs no such note
    assert not any("days after the last purchase" in n for n in score(models_60d, orders).notes)


@pytest.mark.parametrize(("factor", "words"), [(100.0, "times as much"), (0.01, "times less")])
def test_money_on_another_scale_is_said(orders, models_60d, factor, words) -> None:
    # the same orders in cents (or in hundreds): the trees' CLV cannot follow the money
    scaled = orders.assign(UnitPrice=orders["UnitPrice"] * factor)
    notes = score(models_60d, scaled).notes
    said = [n for n in notes if "median average order value" in n]
    assert len(said) == 1, notes
    assert words in said[0] and "another currency or unit?" in said[0]
    assert not any("median average order value" in n for n in score(models_60d, orders).notes)


def test_a_cancellation_after_the_as_of_date_cannot_change_the_scores(orders, models_60d) -> None:
    # the last order before 2023-12-01 of the customer with the most orders in November 2023,
    # cancelled line by line three days after that as-of date (an exact offsetting pair)
    as_of = date(2023, 12, 1)
    before = orders[orders["InvoiceDate"] < pd.Timestamp(as_of)]
    november = before[before["InvoiceDate"] >= pd.Timestamp(2023, 11, 1)]
    who = november.groupby("CustomerID")["InvoiceNo"].nunique().idxmax()
    mine = before[before["CustomerID"] == who]
    last = mine[mine["InvoiceDate"] == mine["InvoiceDate"].max()]
    cancel = last.assign(
        InvoiceNo="C" + last["InvoiceNo"].astype(str),
        Quantity=-last["Quantity"],
        InvoiceDate=pd.Timestamp(as_of) + pd.Timedelta(days=3),
    )
    settings = custlens.Settings().with_overrides(as_of=as_of)
    later = score(models_60d, pd.concat([orders, cancel], ignore_index=True), settings=settings)
    known = score(models_60d, before, settings=settings)  # only what was known on the as-of date
    cols = ["churn_probability", "clv", "expected_purchases", "confidence_tier"]
    key = str(int(who))  # the synthetic ids are whole floats, read as "12360"
    got = later.customers.set_index("customer_id").loc[key, cols]
    want = known.customers.set_index("customer_id").loc[key, cols]
    assert got.to_dict() == want.to_dict()


def test_a_cleaning_other_than_the_training_one_is_said(orders, models_60d) -> None:
    # the models learned from default-cleaned lines; minimal cleaning keeps non-product lines,
    # exact duplicates and offsetting pairs, which the features then count
    minimal = custlens.Settings().with_overrides(**{"cleaning.mode": "minimal"})
    notes = score(models_60d, orders, settings=minimal).notes
    said = [n for n in notes if "cleaned with other rules" in n]
    assert len(said) == 1, notes
    for rule in ("non_product", "exact_duplicates", "offsetting_pairs"):
        assert f"{rule} off (training: on)" in said[0]
    assert "missing_customer" not in said[0] and said[0].endswith("score with --cleaning default")
    assert not any("cleaned with other rules" in n for n in score(models_60d, orders).notes)
