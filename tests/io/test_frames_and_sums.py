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


def test_positions_of_match_a_pandas_reindex():
    import pyarrow as pa
    import pytest

    from custlens.io.frames import positions_of, taken

    rng = np.random.default_rng(4)
    keys = pd.Series([f"c{i}" for i in rng.permutation(50)], dtype="str")
    ids = pd.Series([f"c{i}" for i in rng.integers(0, 70, 200)], dtype="str")  # some absent
    values = rng.random(50)
    want = pd.Series(values, index=keys.to_numpy(dtype=object)).reindex(ids.to_numpy(dtype=object))
    for k, i in ((keys, ids), (pa.array(keys), pa.array(ids)), (keys.to_numpy(), ids.to_numpy())):
        at = positions_of(i, k)
        assert ((at == -1) == ~ids.isin(keys)).all()
        np.testing.assert_array_equal(taken(values, at), want.to_numpy())
    whole = positions_of(keys[::-1], keys)  # every id found: the values keep their dtype
    assert taken(np.arange(50), whole).dtype == np.int64
    with pytest.raises(RuntimeError, match="repeats"):
        positions_of(ids, pd.Series(["a", "b", "a"], dtype="str"))
