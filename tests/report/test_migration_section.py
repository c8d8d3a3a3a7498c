"""The migration section in words: each state's shares as percentages with its test's p value
(never "0"), the moves most customers first, migration's own states named, and the cohorts as a
retention triangle that leaves a month not yet over blank."""

from __future__ import annotations

import pandas as pd
import pytest

import custlens
from custlens.pipeline.stages.sections import migration_section
from custlens.story import Table


@pytest.fixture(scope="module")
def run():
    orders = custlens.datasets.synthetic(800, seed=4).orders
    return custlens.run(orders, settings=custlens.Settings(analyses=["migration"], seed=4))


def _tables(run) -> dict[str, Table]:
    section = migration_section(run.stages["migration"], run)
    return {b.name: b for b in section.blocks if isinstance(b, Table)}


def test_states_in_words_with_percentages_and_p_values(run):
    tables = _tables(run)
    result = run.stages["migration"]
    states = tables["migration_state_tests"]
    assert {"share_then", "share_now", "share_change"} <= set(states.percent)
    shown = states.frame
    raw = result.tables["state_tests"]
    assert "lost" not in set(shown["state"]) and "new" not in set(shown["state"])
    for p, text in zip(raw["p_value"], shown["p_value"], strict=True):
        if p < 1e-16:
            assert text == "< 1e-16"
        else:
            assert float(text) == pytest.approx(p, rel=0.05)  # two significant digits
    moves = tables["migration_transitions"].frame
    assert moves["customers"].is_monotonic_decreasing
    assert moves["customers"].iloc[0] == result.tables["transitions"]["customers"].max()
    # every customer's states stay in the CSV: not a table of the report
    assert not any("customer_states" in name for name in tables)


def test_cohorts_as_a_retention_triangle(run):
    cohorts = run.stages["migration"].tables["cohorts"]
    triangle = _tables(run)["migration_cohorts"].frame.set_index("cohort")
    assert triangle["customers"].to_dict() == (
        cohorts.groupby("cohort")["cohort_customers"].first().astype(int).to_dict()
    )
    for row in cohorts[cohorts["months_since"] > 0].itertuples():
        cell = triangle.loc[row.cohort, f"month_{row.months_since}"]
        if row.complete:
            assert cell == pytest.approx(row.customer_share)
        else:
            assert pd.isna(cell)  # a month not yet over
