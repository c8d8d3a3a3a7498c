"""DuckDB's perfect-hash threshold is raised only inside the block and only when it helps."""

from __future__ import annotations

import ibis
import pandas as pd

from custlens.io.tuning import MAX_PERFECT_HASH_BITS, perfect_hash_groups


def _threshold(con) -> int:
    [(value,)] = con.raw_sql("SELECT current_setting('perfect_ht_threshold')").fetchall()
    return int(value)


def test_threshold_raised_inside_the_block_and_put_back():
    con = ibis.duckdb.connect()
    t = con.create_table("codes", pd.DataFrame({"code": [0, 1, 2]}))
    before = _threshold(con)
    with perfect_hash_groups(t, 1157 * 1157):  # 1,338,649 keys need 21 bits
        assert _threshold(con) == 21
    assert _threshold(con) == before


def test_threshold_left_alone_for_large_or_small_ranges():
    con = ibis.duckdb.connect()
    t = con.create_table("codes", pd.DataFrame({"code": [0, 1, 2]}))
    before = _threshold(con)
    with perfect_hash_groups(t, 2 ** (MAX_PERFECT_HASH_BITS + 1)):
        assert _threshold(con) == before
    with perfect_hash_groups(t, 16):  # 4 bits: the default already covers it
        assert _threshold(con) == before


def test_threshold_put_back_after_an_error():
    con = ibis.duckdb.connect()
    t = con.create_table("codes", pd.DataFrame({"code": [0, 1, 2]}))
    before = _threshold(con)
    try:
        with perfect_hash_groups(t, 2000 * 2000):  # 22 bits
            assert _threshold(con) == 22
            raise RuntimeError("query failed")
    except RuntimeError:
        pass
    assert _threshold(con) == before
