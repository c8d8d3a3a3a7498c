"""Cleaning rules and the quality report.

The small example below is counted by hand (see the comment on each line); the Online Retail
figures come from the published minimal-cleaning convention (4,338 customers, 18,532 orders,
revenue 8,911,407.90) and from independent DuckDB SQL written here.
"""

from __future__ import annotations

import json
import math
from datetime import date, datetime

import duckdb
import ibis
import pandas as pd
import pytest

from custlens.config import CleaningConfig
from custlens.errors import DataError, MappingError
from custlens.features.rfm import customer_table, resolve_as_of
from custlens.io.clean import PurchaseSpan, clean, clean_purchases

COLUMNS = ["customer_id", "order_id", "order_ts", "product_id", "quantity", "unit_price", "country"]

# customer, order, time, product, quantity, price, country   -> first rule that removes it
LINES = [
    ("c1", "100", "2021-01-04 10:00", "A", 2, 5.0, "UK"),  # kept, 10
    (None, "101", "2021-01-04 11:00", "A", 1, 5.0, "UK"),  # 1 missing customer, 5
    ("c1", "C102", "2021-01-05 09:00", "A", -1, 5.0, "UK"),  # 2, return -5 (not a pair: -1 vs 2)
    ("c2", "103", "2021-01-05 10:00", "G", -3, 2.0, "UK"),  # 2 (negative qty), return -6
    ("c2", "104", "2021-01-06 10:00", "G", 4, 0.0, "UK"),  # 3 zero price
    ("c2", "105", "2021-01-06 10:00", "post", 1, 18.0, "UK"),  # 4 code (lower case), 18
    ("c3", "106", "2021-01-07 10:00", "GIFT_0001_20", 1, 20.0, "UK"),  # 4 prefix, 20
    ("c1", "107", "2021-01-08 10:00", "G", 1, 2.0, "UK"),  # kept, 2
    ("c1", "107", "2021-01-08 10:00", "G", 1, 2.0, "UK"),  # 5 exact duplicate, 2
    ("c4", "108", "2021-01-10 10:00", "D1", 10, 3.0, "UK"),  # 6 offset by C109, 30
    ("c4", "C109", "2021-01-12 10:00", "D1", -10, 3.0, "UK"),  # 2, paired: not a return
    ("c4", "110", "2021-01-15 10:00", "A", 1, 5.0, "France"),  # 8 country, 5
    ("c5", "111", "2020-12-31 10:00", "A", 1, 5.0, "UK"),  # 7 before date_from, 5
    ("c1", "112", "2021-01-20 10:00", "A", 3, 5.0, "UK"),  # kept, 15
    ("c6", "113", "2021-01-01 10:00", "E", 5, 1.0, "UK"),  # kept, 5 (C114 is 59 days later)
    ("c6", "C114", "2021-03-01 10:00", "E", -5, 1.0, "UK"),  # 2, return -5 (outside window)
    ("c7", "115", "2021-01-02 10:00", "F", 2, 1.0, "UK"),  # kept, 2
    ("c7", "116", "2021-01-03 10:00", "F", 2, 1.5, "UK"),  # 6 nearest earlier to C117, 3
    ("c7", "C117", "2021-01-04 10:00", "F", -2, 1.5, "UK"),  # 2, paired: not a return
    ("c1", "C118", "2021-01-09 10:00", "D", -1, 10.0, "UK"),  # 2, non-product: not a return
]
CONFIG = CleaningConfig(date_from=date(2021, 1, 1), countries=["uk"])


def _frame(lines=LINES, columns=COLUMNS) -> pd.DataFrame:
    df = pd.DataFrame(lines, columns=columns)
    df["customer_id"] = df["customer_id"].astype(object)
    df["order_ts"] = pd.to_datetime(df["order_ts"])
    df["quantity"] = df["quantity"].astype("float64")
    df["amount"] = df["quantity"] * df["unit_price"]
    return df


def _table(df: pd.DataFrame | None = None) -> ibis.Table:
    return ibis.memtable(_frame() if df is None else df)


@pytest.fixture(scope="module")
def cleaned():
    return clean(_table(), CONFIG)


EXPECTED = {  # rule: (rows, revenue, customers lost)
    "missing_customer": (1, 5.0, 0),
    "cancellations_and_returns": (6, 0.0, 0),
    "nonpositive_price": (1, 0.0, 0),
    "non_product": (2, 38.0, 2),  # c2 and c3 have nothing left
    "exact_duplicates": (1, 2.0, 0),
    "offsetting_pairs": (2, 33.0, 0),  # c4 and c7 still have other lines
    "date_range": (1, 5.0, 1),  # c5
    "country_filter": (1, 5.0, 1),  # c4
}


def test_each_rule_counts_rows_revenue_and_customers(cleaned):
    report = cleaned.report
    for name, (rows, revenue, customers) in EXPECTED.items():
        entry = report.rule(name)
        assert entry.enabled, name
        assert (entry.rows, entry.customers) == (rows, customers), name
        assert entry.revenue == pytest.approx(revenue), name
    assert report.rows_in == 20
    assert report.revenue_in == pytest.approx(122.0)
    assert report.customers_in == 7
    assert report.rows_out == 5
    assert report.orders_out == 5
    assert report.customers_out == 3
    assert report.revenue_out == pytest.approx(34.0)
    assert report.returns_rows == 3


def test_purchases_and_returns_are_the_expected_lines(cleaned):
    purchases = cleaned.purchases.to_pandas()
    assert sorted(purchases["order_id"]) == ["100", "107", "112", "113", "115"]
    returns = cleaned.returns.to_pandas()
    assert sorted(returns["order_id"]) == ["103", "C102", "C114"]
    assert (returns["amount"] < 0).all()
    assert list(purchases.columns) == list(_frame().columns)


def test_span_of_the_purchases_by_hand(cleaned):
    # kept: 113 (Jan 1, 10:00, the first), 115, 100, 107, 112 (Jan 20, 10:00, the last)
    span = cleaned.span
    assert (span.first, span.last, span.rows) == (
        datetime(2021, 1, 1, 10, 0),
        datetime(2021, 1, 20, 10, 0),
        5,
    )
    # resolve_as_of takes it instead of a query: a span that says otherwise wins
    assert resolve_as_of(cleaned.purchases, span=span) == date(2021, 1, 21)
    later = PurchaseSpan(span.first, datetime(2021, 2, 3, 8, 0), span.rows)
    assert resolve_as_of(cleaned.purchases, span=later) == date(2021, 2, 4)
    assert resolve_as_of(cleaned.purchases) == date(2021, 1, 21)


def test_offsetting_pair_prefers_the_nearest_earlier_purchase(cleaned):
    c7 = cleaned.purchases.filter(cleaned.purchases.customer_id == "c7").to_pandas()
    assert list(c7["order_id"]) == ["115"]  # 116 (nearest to C117) was paired, 115 stays
    assert "paired lines from returns" in cleaned.report.rule("offsetting_pairs").note
    assert "2 paired" in cleaned.report.rule("offsetting_pairs").note


def test_offsetting_window_is_configurable():
    wide = clean(_table(), CONFIG.model_copy(update={"offsetting_window_days": 60}))
    entry = wide.report.rule("offsetting_pairs")
    assert entry.rows == 3  # 113 / C114 (59 days apart) now pair as well
    assert entry.revenue == pytest.approx(38.0)
    assert entry.customers == 1  # c6 had only 113
    assert wide.report.returns_rows == 2


def test_each_cancellation_offsets_at_most_one_purchase():
    lines = [
        ("c1", "1", "2021-01-01 10:00", "A", 4, 1.0, "UK"),
        ("c1", "2", "2021-01-02 10:00", "A", 4, 1.0, "UK"),
        ("c1", "C3", "2021-01-03 10:00", "A", -4, 1.0, "UK"),
        ("c1", "C4", "2021-01-04 10:00", "A", -4, 1.0, "UK"),  # follows C3, no purchase left
        ("c1", "5", "2021-01-05 10:00", "G", 1, 1.0, "UK"),
    ]
    out = clean(_table(_frame(lines)), CleaningConfig())
    assert out.report.rule("offsetting_pairs").rows == 1
    assert sorted(out.purchases.to_pandas()["order_id"]) == ["1", "5"]
    assert sorted(out.returns.to_pandas()["order_id"]) == ["C4"]


def test_returns_feed_the_return_rate(cleaned):
    customers = customer_table(cleaned.purchases, cleaned.returns).to_pandas()
    by_id = customers.set_index("customer_id")
    # as_of = 2021-01-21; c1 bought 10 + 2 + 15 = 27 and returned 5 (C102)
    assert by_id.loc["c1", "return_rate"] == pytest.approx(5 / 27)
    # c6's return C114 (2021-03-01) is after as_of, so it does not count yet
    assert by_id.loc["c6", "return_rate"] == 0.0
    assert by_id.loc["c7", "return_rate"] == 0.0


def test_minimal_mode_runs_only_the_first_three_rules():
    report = clean(_table(), CleaningConfig(mode="minimal", countries=["uk"])).report
    enabled = [r.rule for r in report.rules if r.enabled]
    assert enabled == [
        "missing_customer",
        "cancellations_and_returns",
        "nonpositive_price",
        "implausible_date",  # invalid data: removed in every mode
        "invalid_numbers",
    ]
    assert [report.rule(n).rows for n in enabled] == [1, 6, 1, 0, 0]
    assert report.rows_out == 12
    assert report.returns_rows == 6  # every cancellation/return of a known customer
    assert report.rule("non_product").note == "off in minimal mode"


def test_a_line_with_quantity_zero_is_no_purchase():
    # customer, order, time, product, quantity, price, country   -> first rule that removes it
    lines = [
        ("z1", "200", "2021-01-04 10:00", "A", 0, 5.0, "UK"),  # 3 nothing sold: z1 is lost
        ("z2", "201", "2021-01-04 10:00", "A", 2, 5.0, "UK"),  # kept, 10
        ("z2", "202", "2021-01-05 10:00", "F", 0, 3.0, "UK"),  # 3 nothing sold
        ("z3", "203", "2021-01-05 10:00", "F", None, 3.0, "UK"),  # 10 missing quantity: z3 lost
    ]
    cleaned = clean(_table(_frame(lines)), CleaningConfig())
    report = cleaned.report
    rule = report.rule("nonpositive_price")
    assert (rule.rows, rule.customers, rule.revenue) == (2, 1, 0.0)
    assert (report.rule("invalid_numbers").rows, report.rule("invalid_numbers").customers) == (1, 1)
    assert (report.rows_out, report.orders_out, report.customers_out) == (1, 1, 1)
    assert report.revenue_out == pytest.approx(10.0)
    purchases = cleaned.purchases.to_pandas()
    assert purchases["order_id"].tolist() == ["201"]


def test_rules_can_be_switched_off():
    report = clean(_table(), CONFIG.model_copy(update={"exact_duplicates": False})).report
    assert not report.rule("exact_duplicates").enabled
    assert report.rule("exact_duplicates").rows == 0
    assert report.rows_out == 6


def test_rules_needing_absent_columns_are_skipped_with_a_note():
    df = _frame().drop(columns=["product_id", "country"])
    report = clean(_table(df), CONFIG).report
    for name in ("non_product", "offsetting_pairs", "country_filter"):
        entry = report.rule(name)
        assert not entry.enabled and entry.rows == 0
        assert "no " in entry.note and "column" in entry.note
    # duplicates are now judged on the remaining columns: 107 twice, nothing else
    assert report.rule("exact_duplicates").rows == 1


def test_report_is_json_ready_and_readable(cleaned):
    data = json.loads(json.dumps(cleaned.report.to_dict()))
    assert data["rows_in"] == 20
    assert [r["rule"] for r in data["rules"]][:2] == [
        "missing_customer",
        "cancellations_and_returns",
    ]
    lines = cleaned.report.summary_lines()
    assert lines[0].startswith("Input: 20 lines, 7 customers")
    assert any("non_product: removed 2 lines" in line for line in lines)
    assert lines[-1].startswith("Output: 5 purchase lines, 5 orders, 3 customers")


def test_everything_removed_names_the_rule():
    lines = [
        ("c1", "C1", "2021-01-01 10:00", "A", -1, 1.0, "UK"),
        ("c2", "C2", "2021-01-02 10:00", "A", -2, 1.0, "UK"),
    ]
    with pytest.raises(DataError) as err:
        clean(_table(_frame(lines)), CleaningConfig())
    message = str(err.value)
    assert "cancellations_and_returns" in message
    assert "cancellations_and_returns = false" in message


def test_clean_purchases_are_the_lines_kept_without_a_report():
    kept = clean_purchases(_table(_frame()), CONFIG).to_pandas()
    # the lines marked "kept" above
    assert sorted(kept["order_id"]) == ["100", "107", "112", "113", "115"]
    everything_removed = [
        ("c1", "C1", "2021-01-01 10:00", "A", -1, 1.0, "UK"),
        ("c2", "C2", "2021-01-02 10:00", "A", -2, 1.0, "UK"),
    ]
    none = clean_purchases(_table(_frame(everything_removed)), CleaningConfig())
    assert none.count().execute() == 0  # where clean raises a DataError


def test_missing_canonical_column_is_a_mapping_error():
    df = _frame().drop(columns=["amount"])
    with pytest.raises(MappingError, match="amount"):
        clean(_table(df), CleaningConfig())


# --------------------------------------------------------------------------- Online Retail


@pytest.fixture(scope="module")
def online_retail(online_retail_path):
    con = ibis.duckdb.connect()
    r = con.read_csv(str(online_retail_path))
    table = r.select(
        customer_id=r.CustomerID.cast("string"),
        order_id=r.InvoiceNo,
        order_ts=r.InvoiceDate,
        product_id=r.StockCode,
        description=r.Description,
        quantity=r.Quantity.cast("float64"),
        unit_price=r.UnitPrice,
        amount=r.Quantity.cast("float64") * r.UnitPrice,
        country=r.Country,
    )
    return table.cache()


def test_online_retail_minimal_matches_published_figures(online_retail):
    cleaned = clean(online_retail, CleaningConfig(mode="minimal"))
    customers = customer_table(cleaned.purchases, cleaned.returns).to_pandas()
    assert len(customers) == 4338
    assert int(customers["frequency"].sum()) == 18532
    assert round(float(customers["monetary"].sum()), 2) == 8911407.90
    assert cleaned.report.orders_out == 18532
    assert cleaned.report.customers_out == 4338
    assert round(cleaned.report.revenue_out, 2) == 8911407.90


def _sql_stages(path) -> list[tuple[int, float, int]]:
    """Rows, positive revenue and customers after each of rules 1-5, in plain DuckDB SQL."""
    codes = ", ".join(f"'{c.lower()}'" for c in CleaningConfig().non_product_codes)
    query = f"""
    with raw as (select * from read_csv('{path}')),
    s0 as (select * from raw),
    s1 as (select * from s0 where CustomerID is not null),
    s2 as (select * from s1 where not starts_with(InvoiceNo, 'C') and Quantity >= 0),
    s3 as (select * from s2 where UnitPrice > 0),
    s4 as (select * from s3 where lower(trim(StockCode)) not in ({codes})
           and lower(StockCode) not like 'gift\\_0001\\_%' escape '\\'
           and lower(StockCode) not like 'dcgs%'),
    s5 as (select distinct * from s4)
    select stage, count(*), sum(case when Quantity * UnitPrice > 0 then Quantity * UnitPrice
           else 0 end), count(distinct CustomerID)
    from (select 0 stage, * from s0 union all select 1, * from s1 union all select 2, * from s2
          union all select 3, * from s3 union all select 4, * from s4
          union all select 5, * from s5)
    group by stage order by stage
    """
    rows = duckdb.connect().sql(query).fetchall()
    return [(int(n), float(rev), int(cust)) for _, n, rev, cust in rows]


def test_online_retail_default_rules_match_independent_sql(online_retail, online_retail_path):
    report = clean(online_retail, CleaningConfig()).report
    stages = _sql_stages(online_retail_path)
    assert report.rows_in == stages[0][0] == 541909
    assert math.isclose(report.revenue_in, stages[0][1], abs_tol=1e-4)
    assert report.customers_in == stages[0][2] == 4372
    names = [
        "missing_customer",
        "cancellations_and_returns",
        "nonpositive_price",
        "non_product",
        "exact_duplicates",
    ]
    for k, name in enumerate(names, start=1):
        entry = report.rule(name)
        before, after = stages[k - 1], stages[k]
        assert entry.rows == before[0] - after[0], name
        assert math.isclose(entry.revenue, before[1] - after[1], abs_tol=1e-4), name
        assert entry.customers == before[2] - after[2], name
    # what remains after rule 5 is split between rule 6 and the output
    pairs = report.rule("offsetting_pairs")
    assert report.rows_out + pairs.rows == stages[5][0]
    assert math.isclose(report.revenue_out + pairs.revenue, stages[5][1], abs_tol=1e-4)
    assert report.customers_out + pairs.customers == stages[5][2]


def test_online_retail_offsetting_pairs_are_genuine(online_retail):
    cleaned = clean(online_retail, CleaningConfig())
    p, r = cleaned.purchases, cleaned.returns
    # the famous 80,995-unit order and its cancellation the same day are both gone
    assert p.filter(p.order_id == "581483").count().execute() == 0
    assert r.filter(r.order_id == "C581484").count().execute() == 0
    # every dropped purchase had a cancellation with the exact opposite quantity, same customer
    # and product, on or after it and within 30 days, among the lines rules 1-5 kept
    before = clean(online_retail, CleaningConfig(offsetting_pairs=False))
    bp, br = before.purchases, before.returns
    key = ("customer_id", "order_id", "product_id", "quantity", "order_ts")
    dropped = bp.anti_join(p, [bp[c] == p[c] for c in key]).select(*key).distinct()
    matches = dropped.join(
        br,
        [
            dropped.customer_id == br.customer_id,
            dropped.product_id == br.product_id,
            dropped.quantity == -br.quantity,
            dropped.order_ts <= br.order_ts,
            br.order_ts.date().delta(dropped.order_ts.date(), unit="day") <= 30,
        ],
    )
    n_dropped = dropped.count().execute()
    assert n_dropped > 100
    assert matches.select(*[dropped[c] for c in key]).distinct().count().execute() == n_dropped
    pairs = cleaned.report.rule("offsetting_pairs")
    assert pairs.rows == bp.count().execute() - p.count().execute()
    assert before.report.returns_rows - cleaned.report.returns_rows == pairs.rows
    assert pairs.revenue > 80995 * 2.08 - 1e-6  # the 581483 line alone is 168,469.60
