"""``compiled_view``: a table compiled once into a temporary view reads the same rows, keeps
what it reads alive while it can be read, goes with its last reference, and says the SQL it was
made from."""

from __future__ import annotations

import gc

import duckdb
import ibis
import pandas as pd
import pytest

import custlens.io.materialize as materialize_module
from custlens.config import FeaturesConfig
from custlens.features.query import _kept_key, _template
from custlens.io.materialize import compiled_view, materialize, source_sql


def _views(con) -> set[str]:
    rows = con.raw_sql("SELECT view_name FROM duckdb_views() WHERE NOT internal").fetchall()
    return {name for (name,) in rows}


@pytest.fixture
def con():
    return ibis.duckdb.connect()


@pytest.fixture
def lines() -> pd.DataFrame:
    return pd.DataFrame(
        {
            "customer_id": ["a", "a", "b", "c", "c", "c"],
            "amount": [5.0, -2.0, 7.5, 1.0, 2.0, 3.0],
        }
    )


def test_the_view_reads_the_rows_of_the_table(con, lines):
    t = con.create_table("lines", lines)
    kept = t.filter(t.amount > 0).group_by("customer_id").aggregate(total=t.amount.sum())
    view = compiled_view(kept, "totals")
    got = view.order_by("customer_id").to_pandas()
    # the same sums by plain DuckDB on the frame
    expected = duckdb.sql(
        "SELECT customer_id, sum(amount) AS total FROM lines WHERE amount > 0 "
        "GROUP BY customer_id ORDER BY customer_id"
    ).df()
    pd.testing.assert_frame_equal(got, expected, check_dtype=False)
    assert view.schema() == kept.schema()
    # a query built on the view compiles its name, not the aggregate again
    sql = con.compile(view.filter(view.total > 4))
    assert "SUM(" not in sql.upper()
    assert view.op().name in sql


def test_source_sql_is_the_sql_of_the_table_it_was_made_from(con, lines):
    t = con.create_table("lines", lines)
    kept = t.filter(t.amount > 0)
    view = compiled_view(kept, "kept")
    assert source_sql(con, view) == con.compile(kept)
    assert source_sql(con, kept) == con.compile(kept)  # any other table: its own SQL


def test_the_feature_querys_key_is_the_same_for_the_view(con, lines):
    """The customer table the run keeps is found again when scoring reads the lines through a
    view: the key is made of the SQL of the lines, not of the view's name."""
    t = con.create_table(
        "lines",
        lines.assign(
            order_id=["1", "1", "2", "3", "4", "5"],
            order_ts=pd.to_datetime([f"2024-01-0{d}" for d in range(1, 7)]),
        ),
    )
    template = _template(con, t, None, FeaturesConfig(), False)
    day = pd.Timestamp("2024-02-01").date()
    assert _kept_key(con, template, compiled_view(t, "lines"), None, day) == _kept_key(
        con, template, t, None, day
    )


def test_the_view_goes_with_its_last_reference(con, lines):
    t = con.create_table("lines", lines)
    view = compiled_view(t.filter(t.amount > 0), "kept")
    name = view.op().name
    assert name in _views(con)
    del view
    gc.collect()
    assert name not in _views(con)


def test_what_the_view_reads_lives_as_long_as_the_view(con, lines, tmp_path):
    """A stored table read only through the view stays on disk until the view goes."""
    materialize_module.register_workdir(con, tmp_path)
    t = con.create_table("lines", lines)
    stored = materialize(t.filter(t.amount > 0), "kept")
    path = next(tmp_path.glob("kept_*.parquet"))
    view = compiled_view(stored, "kept_view")
    del stored
    gc.collect()
    assert path.is_file()
    assert view.count().to_pyarrow().as_py() == 5
    del view
    gc.collect()
    assert not path.exists()


def test_other_engines_get_the_table_itself(lines):
    con = ibis.sqlite.connect()
    t = con.create_table("lines", lines)
    assert compiled_view(t, "lines") is t
