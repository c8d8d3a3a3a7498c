"""Scores the data cannot check: an as-of date more than one horizon after the data end gets none
(hand-made dates and rows), and customers whose recency is beyond every recency the models
learned from (found here from the raw purchases, not through the code under test) get no
next-purchase window and no LightGBM churn or CLV."""

from __future__ import annotations

import dataclasses
import json
from datetime import date

import numpy as np
import pandas as pd
import pytest

from custlens.config import CleaningConfig, ModelsConfig
from custlens.datasets.synthetic import synthetic
from custlens.io.clean import clean
from custlens.io.load import load
from custlens.models.confidence import withheld_reason, withheld_scores
from custlens.models.model_rows import customer_features
from custlens.models.persist import load_models, save_models
from custlens.models.scoring import fit_final, score_customers

H = 90


def test_withheld_reason_at_the_boundary_by_hand():
    last = date(2024, 1, 1)
    # 2024-04-01 is 91 days after 2024-01-01: 90 days in between, one horizon: still scored
    assert withheld_reason(date(2024, 4, 1), last, H) is None
    assert withheld_reason(date(2024, 1, 2), last, H) is None  # the default as-of date
    why = withheld_reason(date(2024, 4, 2), last, H)  # 91 days in between
    assert why is not None
    assert why.startswith("predictions: customer scores skipped: the as-of date 2024-04-02")
    assert "comes 92 days after the last purchase (2024-01-01)" in why
    assert "count the 91 days in between as days without orders" in why
    assert "at most 91 days after the last purchase" in why
    why = withheld_reason(date(2027, 1, 1), last, 365)  # 1,096 days after, 1,095 in between
    assert why is not None and "1095 days in between" in why


def test_withheld_scores_are_empty_with_the_tiers_kept():
    frame = pd.DataFrame(
        {"customer_id": ["a", "b", "c"], "frequency": [1, 5, 9], "tenure_days": [400, 10, 400]}
    )
    why = withheld_reason(date(2027, 1, 1), date(2024, 1, 1), H)
    out = withheld_scores(frame, ModelsConfig(), why)
    assert out["customer_id"].tolist() == ["a", "b", "c"]
    for col in ("churn_probability", "p_alive", "expected_purchases", "clv"):
        assert out[col].isna().all(), col
    assert out["next_purchase_window"].isna().all()
    assert (out["churn_source"] == "withheld").all() and (out["clv_source"] == "withheld").all()
    # the default tiers by hand: one order -> cold start; tenure 10 days -> new; else established
    assert out["confidence_tier"].tolist() == ["cold start", "new", "established"]
    assert out["low_confidence"].tolist() == [True, True, False]
    assert out["reason_1"].str.startswith("scores skipped: the as-of date 2027-01-01").all()
    assert (out[["reason_2", "reason_3"]] == "").all().all()


@pytest.fixture(scope="module")
def scored():
    c = clean(load(synthetic(600, seed=8).orders).table, CleaningConfig())
    models, scores = fit_final(c.purchases, c.returns, config=ModelsConfig(n_estimators=30))
    frame, _ = customer_features(c.purchases, c.returns, models.as_of, models.config)
    days = (
        c.purchases.filter(c.purchases.customer_id.notnull())
        .select("customer_id", "order_ts")
        .to_pandas()
    )
    days["day"] = days["order_ts"].dt.normalize()
    return models, scores, frame, days


def _independent_beyond(days: pd.DataFrame, as_of: date, horizon: int):
    """The training recency maximum and the customers beyond it, from the raw purchase days:
    the final models' training cutoff is the last purchase - horizon (as_of = the day after the
    last purchase); a feature's recency is (cutoff + 1 day) - the last order day up to it."""
    last = days["day"].max()
    cutoff = last - pd.Timedelta(days=horizon)
    seen = days[days["day"] <= cutoff].groupby("customer_id")["day"].max()
    top = int(((cutoff + pd.Timedelta(days=1)) - seen).dt.days.max())
    recency = (pd.Timestamp(as_of) - days.groupby("customer_id")["day"].max()).dt.days
    return top, set(recency.index[recency > top]), recency


def test_customers_beyond_the_training_range_get_no_window_nor_lightgbm_scores(scored):
    models, scores, frame, days = scored
    top, beyond_ids, recency = _independent_beyond(days, models.as_of, H)
    assert models.train_recency_max == top
    assert beyond_ids  # some customers last bought before anyone the models learned from
    beyond = scores["customer_id"].isin(beyond_ids).to_numpy()
    assert ((scores["confidence_tier"] == "out of range").to_numpy() == beyond).all()
    assert scores.loc[beyond, "next_purchase_window"].isna().all()
    assert scores.loc[beyond, "low_confidence"].all()
    assert (scores.loc[beyond, "churn_source"] == "btyd").all()
    assert (scores.loc[beyond, "clv_source"] == "btyd").all()
    first = scores.loc[beyond].iloc[0]
    assert first["reason_1"] == (
        f"recency {recency[first['customer_id']]:,} days, beyond the {top:,} days the models "
        "learned from: churn from the btyd baseline, CLV from the btyd baseline, no "
        "next-purchase window"
    )
    # everyone else keeps a window; confident customers keep LightGBM's churn and CLV
    assert scores.loc[~beyond, "next_purchase_window"].notna().all()
    confident = ~scores["low_confidence"].to_numpy(dtype=bool)
    assert confident.any()
    assert (scores.loc[confident, "churn_source"] == "lightgbm").all()
    assert (scores.loc[confident, "clv_source"] == "lightgbm").all()
    # without a BTYD model: the recency rule for churn and no CLV
    none = score_customers(dataclasses.replace(models, btyd=None), frame)
    assert (none.loc[beyond, "churn_source"] == "recency").all()
    assert none.loc[beyond, "clv"].isna().all()
    assert (none.loc[beyond, "clv_source"] == "withheld").all()
    assert np.isfinite(none.loc[~beyond, "clv"]).all()


def test_saved_models_keep_the_training_range(scored, tmp_path):
    models, scores, frame, days = scored
    folder = save_models(models, tmp_path / "m")
    manifest = json.loads((folder / "manifest.json").read_text())
    top, _, _ = _independent_beyond(days, models.as_of, H)
    assert manifest["train_recency_max"] == top
    again = load_models(folder)
    assert again.train_recency_max == top
    assert (score_customers(again, frame)["confidence_tier"] == "out of range").sum() == (
        scores["confidence_tier"] == "out of range"
    ).sum()


def test_models_saved_without_the_range_score_as_before(scored):
    # a folder written before the range was recorded reads it as unknown: no one is beyond
    models, _, frame, _ = scored
    old = dataclasses.replace(models, train_recency_max=None)
    out = score_customers(old, frame)
    assert (out["confidence_tier"] != "out of range").all()
    assert out["next_purchase_window"].notna().all()


@pytest.mark.parametrize(
    ("defaults", "has_btyd", "words"),
    [
        # CDNOW: BTYD churn and last-period CLV were the defaults; LightGBM scored neither
        ({"churn": "btyd", "clv": "last_period"}, True, "churn from btyd, CLV from last_period"),
        (
            {"churn": "lightgbm", "clv": "lightgbm"},
            True,
            "churn from the btyd baseline, CLV from the btyd baseline",
        ),
        (
            {"churn": "lightgbm", "clv": "lightgbm"},
            False,
            "churn from the recency baseline, no CLV",
        ),
    ],
)
def test_the_out_of_range_note_names_the_scores_they_get(defaults, has_btyd, words):
    from types import SimpleNamespace

    from custlens.models.confidence import beyond_training_summary
    from custlens.models.scoring import out_of_range_words

    models = SimpleNamespace(defaults=defaults, btyd=object() if has_btyd else None)
    assert out_of_range_words(models) == words
    tiers = pd.DataFrame({"confidence_tier": ["established", "out of range", "out of range"]})
    note = beyond_training_summary(tiers, 184.0, out_of_range_words(models))
    assert note.startswith("predictions: 2 of 3 customers have a recency beyond the 184 days")
    assert f"no next-purchase window, {words}, and they are low-confidence" in note
    assert "BTYD model instead of LightGBM" not in note


def test_a_p_alive_of_one_for_everyone_is_said():
    from custlens.models.confidence import p_alive_note

    # Online Retail 2011: Pareto/NBD's s / beta ran to 0, every p_alive came out 1.0
    flat = pd.DataFrame({"p_alive": [1.0, 1.0, 1.0, np.nan]})
    note = p_alive_note(flat, "pareto_nbd")
    assert note.startswith("predictions: p_alive is 1 for all 3 scored customers: the Pareto/NBD")
    assert "says nothing about a customer" in note
    assert p_alive_note(pd.DataFrame({"p_alive": [1.0, 0.999]}), "bgnbd") is None
    assert p_alive_note(pd.DataFrame({"p_alive": [np.nan, np.nan]}), "bgnbd") is None  # withheld
    assert p_alive_note(pd.DataFrame({"churn_probability": [0.5]}), "bgnbd") is None


def test_out_of_range_customers_are_told_the_sources_they_really_got():
    """CDNOW: the recency rule is the default churn scorer, but the low-confidence customers
    among those beyond the training range get the BTYD fallback; their reason and the run note
    said 'churn from recency' for all 1,665 of them (1,210 had btyd)."""
    from custlens.models.confidence import beyond_training_summary, sources_words

    defaults = {"churn": "recency", "clv": "btyd"}
    assert sources_words("recency", "btyd", defaults) == "churn from recency, CLV from btyd"
    assert sources_words("btyd", "btyd", defaults) == (
        "churn from the btyd baseline, CLV from btyd"
    )
    scores = pd.DataFrame(
        {
            "confidence_tier": ["out of range"] * 3 + ["established"],
            "churn_source": ["btyd", "btyd", "recency", "recency"],
            "clv_source": ["btyd"] * 4,
        }
    )
    note = beyond_training_summary(scores, 273.0, "churn from recency, CLV from btyd", defaults)
    assert (
        "no next-purchase window, churn from the btyd baseline, CLV from btyd (2); churn from "
        "recency, CLV from btyd (1), and they are low-confidence"
    ) in note
    # one source for all of them: the words given
    same = scores.assign(churn_source="recency")
    note = beyond_training_summary(same, 273.0, "churn from recency, CLV from btyd", defaults)
    assert "no next-purchase window, churn from recency, CLV from btyd, and they" in note
