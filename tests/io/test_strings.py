"""``io.strings.strip`` gives exactly Python's ``str.strip`` over Ibis's six whitespace characters,
and the stored lines' row numbers are stable positions."""

from __future__ import annotations

import ibis
import pandas as pd

from custlens.io.materialize import materialize_numbered
from custlens.io.strings import WHITESPACE, strip

VALUES = [
    "17850", " 17850", "17850 ", "\t17850\n", "\r\x0b\x0c", "", " ", "a b", "é ", " é", "\u00a0x\u00a0",
    "x\r", "\x0cx", "C536379", None,
]  # fmt: skip


def test_strip_matches_python_strip_on_every_kind_of_padding():
    con = ibis.duckdb.connect()
    t = con.create_table("s", pd.DataFrame({"v": VALUES}))
    got = t.select(i=ibis.row_number(), s=strip(t.v)).order_by("i").to_pandas()["s"].tolist()
    expected = [None if v is None else v.strip(WHITESPACE) for v in VALUES]
    assert [None if pd.isna(g) else g for g in got] == expected


def test_stored_row_numbers_are_positions_and_stay_the_same():
    con = ibis.duckdb.connect()
    t = con.create_table("n", pd.DataFrame({"x": range(1000)}))
    stored = materialize_numbered(t.filter(t.x % 3 != 0), "n", "row")
    first = stored.order_by("row").to_pandas()
    again = stored.filter(stored.row >= 0).order_by("row").to_pandas()
    assert first["row"].tolist() == list(range(666))  # 0..n-1, one per line
    assert first.equals(again)
    assert sorted(first["x"]) == [x for x in range(1000) if x % 3 != 0]
