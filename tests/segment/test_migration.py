"""Segment migration: states, transition matrix, tests and the moved-down list, checked against
hand counts and statsmodels/scipy called directly."""

from __future__ import annotations

from datetime import date

import ibis
import numpy as np
import pandas as pd
import pytest
from scipy import stats
from statsmodels.stats.contingency_tables import SquareTable

from custlens.config import RFMConfig
from custlens.segment.cohorts import cohort_table
from custlens.segment.migration import (
    homogeneity_tests,
    moved_down,
    score_with_cuts,
    states,
    transition_matrix,
    went_down,
)

ORDER = ["A", "B", "C"]


def _frame(rows):
    return pd.DataFrame(
        rows, columns=["customer_id", "segment", "recency_days", "r_score", "fm_score"]
    ).assign(frequency=1, monetary=10.0)


@pytest.fixture
def moves():
    then = _frame(
        [
            ("1", "A", 5, 5, 5),
            ("2", "A", 5, 5, 5),
            ("3", "B", 50, 3, 3),
            ("4", "B", 50, 3, 3),
            ("5", "C", 400, 1, 1),  # lost at the earlier date (recency > 365)
            ("6", "C", 100, 2, 2),
        ]
    )
    now = _frame(
        [
            ("1", "B", 60, 3, 4),  # A -> B, lower r + fm: moved down
            ("2", "A", 3, 5, 5),
            ("3", "A", 2, 5, 5),
            ("4", "B", 70, 3, 3),
            ("5", "C", 490, 1, 1),  # lost -> lost
            ("6", "C", 380, 1, 1),  # C -> lost
            ("7", "C", 10, 4, 1),  # new
        ]
    )
    return states(then, now, 365)


def test_states_and_matrix_by_hand(moves):
    assert dict(zip(moves["customer_id"], moves["state_then"], strict=True)) == {
        "1": "A", "2": "A", "3": "B", "4": "B", "5": "lost", "6": "C", "7": "new"
    }  # fmt: skip
    assert list(moves["state_now"]) == ["B", "A", "A", "B", "lost", "lost", "C"]
    matrix = transition_matrix(moves, ORDER)
    grid = matrix.pivot(index="from_state", columns="to_state", values="customers")
    assert grid.loc["A", "A"] == 1 and grid.loc["A", "B"] == 1
    assert grid.loc["B", "A"] == 1 and grid.loc["B", "B"] == 1
    assert grid.loc["C", "lost"] == 1 and grid.loc["lost", "lost"] == 1
    assert grid.loc["new", "C"] == 1
    assert matrix["customers"].sum() == 7
    shares = matrix.pivot(index="from_state", columns="to_state", values="row_share")
    assert shares.loc["A", "B"] == pytest.approx(0.5)
    assert shares.loc["new"].sum() == pytest.approx(1.0)


def test_tests_match_statsmodels_and_binomial(moves):
    omnibus, per_state = homogeneity_tests(moves, ORDER)
    # continuing customers (not new): states A, B, C, lost; C is only a "then" state
    square = np.array(
        [
            [1, 1, 0, 0],  # A
            [1, 1, 0, 0],  # B
            [0, 0, 0, 1],  # C
            [0, 0, 0, 1],  # lost
        ],
        dtype=float,
    )
    with pytest.warns(Warning, match="invert"):  # singular: statsmodels gives NaN
        expected = SquareTable(square, shift_zeros=False).homogeneity(method="stuart_maxwell")
    assert np.isnan(expected.pvalue) and omnibus["p_value"] is None
    lost = per_state.set_index("state").loc["lost"]
    # one entered (C -> lost), none left: exact McNemar = two-sided binomial(1, 1, 0.5)
    assert (lost["left"], lost["entered"]) == (0, 1)
    assert lost["p_value"] == pytest.approx(stats.binomtest(0, 1, 0.5).pvalue)
    assert lost["share_change"] == pytest.approx(1 / 6)


def test_stuart_maxwell_on_a_larger_table_matches_statsmodels():
    rng = np.random.default_rng(3)
    then = rng.choice(ORDER, 400, p=[0.5, 0.3, 0.2])
    now = np.where(rng.random(400) < 0.7, then, rng.choice(ORDER, 400, p=[0.2, 0.3, 0.5]))
    moves = pd.DataFrame(
        {"customer_id": [str(i) for i in range(400)], "state_then": then, "state_now": now}
    )
    omnibus, per_state = homogeneity_tests(moves, ORDER)
    square = pd.crosstab(then, now).reindex(index=ORDER, columns=ORDER, fill_value=0)
    expected = SquareTable(square.to_numpy(float), shift_zeros=False).homogeneity()
    assert omnibus["statistic"] == pytest.approx(expected.statistic)
    assert omnibus["p_value"] == pytest.approx(expected.pvalue)
    a = per_state.set_index("state").loc["A"]
    b, c = int(((then == "A") & (now != "A")).sum()), int(((then != "A") & (now == "A")).sum())
    chi2 = (abs(b - c) - 1) ** 2 / (b + c)  # McNemar with continuity correction, by hand
    assert a["statistic"] == pytest.approx(chi2)
    assert a["p_value"] == pytest.approx(stats.chi2.sf(chi2, 1))


def test_a_stuart_maxwell_p_value_beyond_double_precision_of_one_minus_cdf_is_its_tail():
    """Nearly everyone moves from A to C: the statistic is large and the p-value far below
    2.2e-16, which statsmodels' ``1 - cdf`` cannot show. The statistic by hand: d = row minus
    column margins of the first two states, S their covariance (Stuart 1955), d' S^-1 d."""
    cells = {("A", "A"): 100, ("A", "C"): 600, ("B", "B"): 200, ("C", "C"): 100, ("C", "B"): 30}
    then, now = [], []
    for (a, b), n in cells.items():
        then += [a] * n
        now += [b] * n
    moves = pd.DataFrame(
        {"customer_id": [str(i) for i in range(len(then))], "state_then": then, "state_now": now}
    )
    omnibus, _ = homogeneity_tests(moves, ORDER)
    n = (
        pd.crosstab(pd.Series(then), pd.Series(now))
        .reindex(index=ORDER, columns=ORDER, fill_value=0)
        .to_numpy(float)
    )
    d = (n.sum(axis=1) - n.sum(axis=0))[:2]
    cov = np.array(
        [
            [n[i].sum() + n[:, i].sum() - 2 * n[i, i] if i == j else -(n[i, j] + n[j, i])
             for j in range(2)]
            for i in range(2)
        ]
    )  # fmt: skip
    statistic = float(d @ np.linalg.solve(cov, d))
    assert omnibus["statistic"] == pytest.approx(statistic)
    assert omnibus["df"] == 2
    assert omnibus["p_value"] == pytest.approx(stats.chi2.sf(statistic, 2), rel=1e-9)
    assert 0 < omnibus["p_value"] < 1e-100


def test_moved_down_lists_watched_customers_who_fell(moves):
    down = moved_down(moves, ["A"])
    assert list(down["customer_id"]) == ["1"]
    assert down.loc[0, "state_now"] == "B"


def test_fixed_cut_points_put_ties_in_the_lowest_quintile():
    table = ibis.memtable(
        pd.DataFrame(
            {
                "customer_id": ["a", "b", "c"],
                "recency_days": [10, 11, 500],
                "frequency": [2, 3, 9],
                "monetary": [20.0, 21.0, 900.0],
            }
        )
    )
    cuts = {
        "recency": [10.0, 20.0, 30.0, 40.0],  # R = 5 up to 10 days, 4 up to 20 ...
        "frequency": [2.0, 3.0, 4.0, 5.0],
        "monetary": [20.0, 30.0, 40.0, 50.0],
    }
    out = score_with_cuts(table, cuts, RFMConfig()).order_by("customer_id").to_pandas()
    assert list(out["r_score"]) == [5, 4, 1]
    assert list(out["f_score"]) == [1, 2, 5]
    assert list(out["m_score"]) == [1, 2, 5]
    assert list(out["segment"]) == [RFMConfig().segment_of(5, 1).name,
                                    RFMConfig().segment_of(4, 2).name, "Can't Lose Them"]  # fmt: skip


def test_cohorts_by_hand():
    lines = pd.DataFrame(
        {
            "customer_id": ["a", "a", "a", "b", "b", "c"],
            "order_id": ["1", "2", "3", "4", "5", "6"],
            "order_ts": pd.to_datetime(
                ["2024-01-05", "2024-02-07", "2024-03-01", "2024-01-20", "2024-03-03", "2024-02-02"]
            ),
            "amount": [10.0, 5.0, 4.0, 20.0, 2.0, 7.0],
        }
    )
    got = cohort_table(ibis.memtable(lines), date(2024, 3, 15))
    jan = got[got["cohort"] == "2024-01"].set_index("months_since")
    assert jan.loc[0, "customers"] == 2 and jan.loc[0, "revenue"] == 30.0
    assert jan.loc[1, "customers"] == 1 and jan.loc[1, "customer_share"] == 0.5
    assert jan.loc[1, "revenue_share"] == pytest.approx(5 / 30)
    assert jan.loc[2, "customers"] == 2 and not jan.loc[2, "complete"]
    feb = got[got["cohort"] == "2024-02"].set_index("months_since")
    assert feb.loc[0, "cohort_customers"] == 1 and bool(feb.loc[0, "complete"])


def _messy_lines(seed: int) -> pd.DataFrame:
    """Orders whose lines can straddle a date, amounts past 6 decimals, ids missing."""
    rng = np.random.default_rng(seed)
    n = 3000
    orders = rng.integers(0, 1200, n)
    start = pd.Timestamp("2023-01-01") + pd.to_timedelta(orders % 300, unit="D")
    late = rng.random(n) < 0.2
    ts = start + pd.to_timedelta(np.where(late, rng.integers(1, 20, n), 0), unit="D")
    ts = ts + pd.to_timedelta(rng.integers(0, 86400, n), unit="s")
    amount = np.round(rng.lognormal(2.0, 1.2, n), 2)
    amount += np.where(rng.random(n) < 0.3, rng.random(n) * 1e-7, 0.0)
    frame = pd.DataFrame(
        {
            "customer_id": [f"c{int(o) % 250}" for o in orders],
            "order_id": [f"o{o}" for o in orders],
            "order_ts": ts.astype("datetime64[us]"),
            "amount": amount,
        }
    )
    frame.loc[rng.random(n) < 0.02, "order_id"] = None
    frame.loc[rng.random(n) < 0.01, "customer_id"] = None
    return frame


@pytest.mark.parametrize("seed", [1, 2])
def test_both_dates_from_one_pass_equal_the_customer_tables(seed):
    from custlens.features.rfm import customer_table_before
    from custlens.segment.migration import rfm_at_two_dates

    table = ibis.memtable(_messy_lines(seed))
    then, now = date(2023, 8, 17), date(2023, 11, 15)
    got = rfm_at_two_dates(table, then, now)
    cols = ["customer_id", "recency_days", "frequency", "monetary"]
    for d, part in zip((then, now), got, strict=True):
        want = customer_table_before(table, None, d).select(*cols).to_pandas()
        want = want.sort_values("customer_id").reset_index(drop=True)
        have = part.to_pandas().sort_values("customer_id").reset_index(drop=True)[cols]
        pd.testing.assert_frame_equal(have, want, check_exact=True)


def test_went_down_is_a_lower_r_plus_fm_score_or_lost_in_another_state():
    moves = pd.DataFrame(
        {
            "state_then": ["A", "A", "B", "new", "A", "B"],
            "state_now": ["B", "lost", "A", "A", "A", "B"],
            "rfm_then": [8.0, 8.0, 4.0, np.nan, 6.0, 6.0],
            "rfm_now": [5.0, 9.0, 7.0, 7.0, 3.0, 3.0],
        }
    )
    # by hand: lower score; lost; higher score; new (no earlier score); same state (no move)
    # twice, whatever the scores did
    assert went_down(moves).tolist() == [True, True, False, False, False, False]
