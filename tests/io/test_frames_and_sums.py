"""io.frames.to_rounded_frame and io.sums' standard-deviation terms, against pandas and numpy."""

from __future__ import annotations

import ibis
import numpy as np
import pandas as pd

from custlens.io.frames import to_rounded_frame
from custlens.io.sums import exact_std, with_exact_std_terms


def test_to_rounded_frame_matches_pandas_round():
    frame = pd.DataFrame(
        {
            "customer_id": ["a", "b", "c"],
            "x": [0.1 + 0.2, 1 / 3, np.nan],
            "n": [1, 2, 3],
            "maybe": pd.array([1, None, 3], dtype="Int64"),
            "ts": pd.to_datetime(["2024-01-01", "2024-01-02", None]),
        }
    )
    table = ibis.memtable(frame)
    got = to_rounded_frame(table)
    want = table.to_pyarrow().to_pandas()  # the plain conversion, rounded by pandas itself
    floats = want.select_dtypes("float").columns
    want[floats] = want[floats].round(9)
    pd.testing.assert_frame_equal(got, want)
    assert got["x"].tolist()[:2] == [0.3, 0.333333333]
    assert list(got.dtypes) == list(want.dtypes)


def test_exact_std_per_group_matches_numpy_with_a_null_group():
    rng = np.random.default_rng(3)
    keys = ["a"] * 5 + ["b"] * 3 + [None] * 4 + ["c"]
    values = rng.normal(100.0, 15.0, len(keys)).round(2)
    t = ibis.memtable(pd.DataFrame({"k": keys, "v": values}))
    terms = with_exact_std_terms(t, "v", "k", "_sd")
    assert terms.count().execute() == len(keys)  # one row per input row, none lost or repeated
    got = (
        terms.group_by("k")
        .aggregate(sd=exact_std(terms, "v", "_sd"))
        .to_pandas()
        .set_index("k")["sd"]
    )
    frame = pd.DataFrame({"k": keys, "v": values})
    for key, group in frame.groupby("k", dropna=False):
        want = np.std(group["v"].to_numpy(), ddof=1) if len(group) > 1 else np.nan
        have = got[got.index.isna()].iloc[0] if pd.isna(key) else got[key]
        if np.isnan(want):
            assert pd.isna(have)
        else:
            assert abs(have - want) < 1e-9 * want


def test_exact_std_terms_by_two_columns():
    frame = pd.DataFrame(
        {"k1": ["a", "a", "a", "b"], "k2": [1, 1, 2, 1], "v": [1.0, 3.0, 5.0, 7.0]}
    )
    t = ibis.memtable(frame)
    terms = with_exact_std_terms(t, "v", ["k1", "k2"], "_sd")
    got = (
        terms.group_by(["k1", "k2"])
        .aggregate(sd=exact_std(terms, "v", "_sd"))
        .order_by(["k1", "k2"])
        .to_pandas()
    )
    # hand values: sd(1, 3) = sqrt(2); single values have none
    assert abs(got["sd"].iloc[0] - np.sqrt(2.0)) < 1e-12
    assert got["sd"].iloc[1:].isna().all()
