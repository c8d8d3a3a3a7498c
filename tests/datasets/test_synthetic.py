"""Synthetic order logs: determinism, layout, planted behaviour and ground truth.

Expected values come from the declared parameters (DEFAULT_PERSONAS, DirtRates) and from
independent pandas / scikit-learn computations on the generated orders written here, never
from the generator's own bookkeeping.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pyarrow.parquet as pq
import pytest
from sklearn.cluster import KMeans
from sklearn.ensemble import IsolationForest
from sklearn.metrics import adjusted_rand_score, roc_auc_score
from sklearn.preprocessing import StandardScaler

from custlens.datasets import (
    DEFAULT_PERSONAS,
    ORDER_COLUMNS,
    TRUTH_COLUMNS,
    DirtRates,
    PersonaSpec,
    synthetic,
    write_synthetic,
)
from custlens.errors import ConfigError, OutputError

NON_PRODUCT = ["POST", "M"]


@pytest.fixture(scope="module")
def data():
    return synthetic(2000, seed=0)


def _known(orders: pd.DataFrame) -> pd.DataFrame:
    """Lines of identified customers with a string id column ``cid``."""
    o = orders[orders.CustomerID.notna()]
    return o.assign(cid=o.CustomerID.astype("int64").astype(str))


def _purchases(orders: pd.DataFrame) -> pd.DataFrame:
    """Identified, de-duplicated, product, non-cancelled, positive lines."""
    o = _known(orders.drop_duplicates())
    keep = ~o.StockCode.isin(NON_PRODUCT) & ~o.InvoiceNo.str.startswith("C")
    return o[keep & (o.Quantity > 0) & (o.UnitPrice > 0)]


def test_same_seed_gives_identical_data_and_another_seed_differs():
    a, b = synthetic(300, seed=7), synthetic(300, seed=7)
    pd.testing.assert_frame_equal(a.orders, b.orders)
    pd.testing.assert_frame_equal(a.truth, b.truth)
    c = synthetic(300, seed=8)
    assert len(c.orders) != len(a.orders) or not c.orders.equals(a.orders)
    assert not c.truth.persona.equals(a.truth.persona)


def test_layout_and_dtypes(data):
    o, t = data.orders, data.truth
    assert list(o.columns) == list(ORDER_COLUMNS)
    for col in ("InvoiceNo", "StockCode", "Description", "Country", "Category"):
        assert pd.api.types.is_string_dtype(o[col]), col
    assert o.Quantity.dtype == np.int64
    assert o.UnitPrice.dtype == np.float64
    assert o.CustomerID.dtype == np.float64
    assert pd.api.types.is_datetime64_dtype(o.InvoiceDate)
    assert (o.InvoiceDate.dt.second == 0).all() and (o.InvoiceDate.dt.microsecond == 0).all()
    assert o.InvoiceDate.min() >= pd.Timestamp("2022-01-01")
    assert o.InvoiceDate.max() < pd.Timestamp("2024-01-01")
    # cancellations: "C" + digits, always negative quantities; other invoices are digits only
    is_c = o.InvoiceNo.str.startswith("C")
    assert o.InvoiceNo.str.fullmatch(r"C?\d{6,}").all()
    assert (o.Quantity[is_c] < 0).all()
    # the truth table: one row per customer, ids as they look after loading
    assert list(t.columns) == list(TRUTH_COLUMNS)
    assert len(t) == 2000 and t.customer_id.is_unique
    assert t.customer_id.str.fullmatch(r"\d+").all()
    assert set(_known(o).cid) <= set(t.customer_id)
    assert t.is_anomaly.dtype == bool and t.buys_after_cutoff.dtype == bool
    assert t.orders_after_cutoff.dtype == np.int64 and t.spend_after_cutoff.dtype == np.float64
    assert (t.cutoff == pd.Timestamp("2023-10-02")).all()  # 2023-12-31 minus 90 days
    assert str(data.cutoff) == "2023-10-02"


def test_dirt_rates_are_near_the_declared_ones(data):
    o, rates = data.orders, DirtRates()
    n = len(o)
    assert abs(o.CustomerID.isna().mean() - rates.missing_customer_share) < 0.03
    assert abs(o.duplicated().mean() - rates.duplicate_line_share) < 0.004
    assert abs((o.UnitPrice == 0).mean() - rates.zero_price_share) < 0.002
    assert 0 < o.Description.isna().sum() < 0.01 * n
    # cancellations: share of customer orders that get a later "C" invoice (anomalies add some)
    invoices = _known(o).drop_duplicates("InvoiceNo")
    c = invoices.InvoiceNo.str.startswith("C")
    ratio = c.sum() / (~c).sum()
    assert rates.cancel_order_prob * 0.7 < ratio < rates.cancel_order_prob * 1.6
    returns = o[(o.Quantity < 0) & ~o.InvoiceNo.str.startswith("C")]
    assert len(returns) > 0 and returns.CustomerID.notna().all()
    assert 0.001 < (o.StockCode == "POST").mean() < 0.03
    assert 0 < (o.StockCode == "M").sum() < 0.005 * n
    assert o.Category[o.StockCode.isin(NON_PRODUCT)].isna().all()
    assert (o.Country == "United Kingdom").mean() > 0.8


def test_persona_shares_follow_the_declared_mix(data):
    t = data.truth
    shares = t.persona.value_counts(normalize=True)
    assert abs(shares["anomaly"] - 0.02) < 0.01
    assert t.is_anomaly.eq(t.persona == "anomaly").all()
    assert t.anomaly_kind.notna().eq(t.is_anomaly).all()
    total = sum(s.share for s in DEFAULT_PERSONAS.values())
    for name, spec in DEFAULT_PERSONAS.items():
        expected = spec.share / total * (1 - 0.02)
        assert abs(shares[name] - expected) < 0.035, name


def _persona_lines(data, persona: str) -> pd.DataFrame:
    ids = set(data.truth.customer_id[data.truth.persona == persona])
    p = _purchases(data.orders)
    return p[p.cid.isin(ids)]


def test_q4_gift_buyers_order_only_in_october_to_december(data):
    lines = _persona_lines(data, "q4_gift_buyer")
    assert len(lines) > 100
    assert lines.InvoiceDate.dt.month.isin([10, 11, 12]).all()
    gift = lines.Category.isin(["Gifts", "Seasonal/Christmas"]).mean()
    everyone = _purchases(data.orders).Category.isin(["Gifts", "Seasonal/Christmas"]).mean()
    assert gift > 0.6 and gift > everyone + 0.3


def test_one_timers_have_exactly_one_invoice_before_the_cutoff(data):
    lines = _persona_lines(data, "bargain_one_timer")
    before = lines[lines.InvoiceDate < pd.Timestamp(data.cutoff)]
    per_customer = before.groupby("cid").InvoiceNo.nunique()
    ids = data.truth.customer_id[data.truth.persona == "bargain_one_timer"]
    assert per_customer.reindex(ids).fillna(0).eq(1).all()
    assert before.UnitPrice.median() < _purchases(data.orders).UnitPrice.median()


def test_lapsing_customers_stop_well_before_the_cutoff(data):
    lines = _persona_lines(data, "lapsing")
    cutoff = pd.Timestamp(data.cutoff)
    last = lines[lines.InvoiceDate < cutoff].groupby("cid").InvoiceDate.max()
    assert ((cutoff - last).dt.days >= 120).all()
    buys = data.truth.groupby("persona").buys_after_cutoff.mean()
    assert buys["lapsing"] < 0.15 and buys["bargain_one_timer"] < 0.15
    assert buys["loyal_high_value"] > 0.7 and buys["regular_casual"] > 0.7


def test_weekly_hourly_and_yearly_patterns(data):
    normal = set(data.truth.customer_id[~data.truth.is_anomaly])
    p = _purchases(data.orders)
    inv = p[p.cid.isin(normal)].drop_duplicates("InvoiceNo")
    weekday = inv.InvoiceDate.dt.day_of_week.value_counts(normalize=True)
    assert weekday.get(5, 0.0) < 0.03  # Saturday: almost closed
    assert weekday.get(5, 0.0) < weekday.drop(5, errors="ignore").min() / 3
    hours = inv.InvoiceDate.dt.hour
    assert hours.between(8, 18).mean() > 0.85
    month = inv.InvoiceDate.dt.to_period("M").value_counts()
    assert month[pd.Period("2023-11")] > 1.4 * month[pd.Period("2023-06")]  # November peak
    persona = data.truth.set_index("customer_id").persona
    mean_hour = hours.groupby(inv.cid.map(persona)).mean()
    assert mean_hour["loyal_high_value"] < 12 < 16 < mean_hour["q4_gift_buyer"]


def test_truth_matches_an_independent_recomputation_from_the_orders(data):
    o = data.orders.drop_duplicates()  # planted duplicates are errors, not purchases
    o = _known(o[~o.StockCode.isin(NON_PRODUCT)])
    after = o[o.InvoiceDate >= pd.Timestamp(data.cutoff)]
    spend = (after.Quantity * after.UnitPrice).groupby(after.cid).sum()
    bought = after[
        ~after.InvoiceNo.str.startswith("C") & (after.Quantity > 0) & (after.UnitPrice > 0)
    ]
    n_orders = bought.groupby("cid").InvoiceNo.nunique()
    t = data.truth.set_index("customer_id")
    np.testing.assert_allclose(
        t.spend_after_cutoff, spend.reindex(t.index).fillna(0.0), rtol=1e-9, atol=1e-6
    )
    assert t.orders_after_cutoff.eq(n_orders.reindex(t.index).fillna(0).astype(int)).all()
    assert t.buys_after_cutoff.eq(t.orders_after_cutoff > 0).all()
    assert (t.spend_after_cutoff > -1e-9).all()  # cancellations never exceed what they cancel
    assert 0.3 < t.buys_after_cutoff.mean() < 0.8


def _features(orders: pd.DataFrame, cutoff: pd.Timestamp) -> pd.DataFrame:
    o = _known(orders.drop_duplicates())
    o = o[~o.StockCode.isin(NON_PRODUCT) & (o.InvoiceDate < cutoff)]
    o = o.assign(amount=o.Quantity * o.UnitPrice)
    undo = o.InvoiceNo.str.startswith("C") | (o.Quantity < 0)
    p = o[~undo & (o.UnitPrice > 0)]
    inv = p.groupby(["cid", "InvoiceNo"]).agg(
        ts=("InvoiceDate", "min"), amt=("amount", "sum"), q=("Quantity", "sum")
    )
    inv = inv.reset_index()
    inv["q4"] = inv.ts.dt.month >= 10
    g = inv.groupby("cid")
    f = pd.DataFrame(
        {"freq": g.size(), "monetary": g.amt.sum(), "items": g.q.mean(), "q4": g.q4.mean()}
    )
    first, last = g.ts.min(), g.ts.max()
    f["aov"] = f.monetary / f.freq
    f["recency"] = (cutoff - last).dt.days
    f["ipi"] = ((last - first).dt.days / (f.freq - 1).where(f.freq > 1)).fillna(0.0)
    returned = o[undo].amount.abs().groupby(o[undo].cid).sum().reindex(f.index).fillna(0.0)
    f["return_rate"] = returned / (f.monetary + returned)
    return f


def test_personas_are_recoverable_by_clustering_and_anomalies_by_isolation_forest(data):
    f = _features(data.orders, pd.Timestamp(data.cutoff))
    t = data.truth.set_index("customer_id").loc[f.index]
    x = np.column_stack(
        [np.log1p(f[c]) for c in ("freq", "monetary", "aov", "items", "recency", "ipi")] + [f.q4]
    )
    normal = ~t.is_anomaly.to_numpy()
    xs = StandardScaler().fit_transform(x[normal])
    labels = KMeans(n_clusters=6, n_init=10, random_state=0).fit_predict(xs)
    assert adjusted_rand_score(t.persona[normal], labels) >= 0.8
    xa = np.column_stack([x, f.return_rate])
    forest = IsolationForest(n_estimators=300, random_state=0).fit(xa)
    assert roc_auc_score(t.is_anomaly, -forest.score_samples(xa)) >= 0.9


SMALL = {"start": "2022-09-01", "end": "2023-03-31", "horizon_days": 60}


def test_chunked_write_equals_in_memory_generation(tmp_path):
    n = 10_001  # blocks of 5,000 customers: 5,000 + 5,000 + 1
    info = write_synthetic(tmp_path / "o.parquet", n, seed=3, chunk_customers=5_000, **SMALL)
    mem = synthetic(n, seed=3, **SMALL)
    assert info["chunks"] == 3 and pq.ParquetFile(tmp_path / "o.parquet").num_row_groups == 3
    assert info["rows"] == len(mem.orders) and info["customers"] == n
    back = pd.read_parquet(tmp_path / "o.parquet")
    pd.testing.assert_frame_equal(back, mem.orders)
    pd.testing.assert_frame_equal(pd.read_parquet(tmp_path / "o.truth.parquet"), mem.truth)
    one = write_synthetic(tmp_path / "one.parquet", n, seed=3, chunk_customers=100_000, **SMALL)
    assert one["chunks"] == 1
    pd.testing.assert_frame_equal(pd.read_parquet(tmp_path / "one.parquet"), mem.orders)


def test_same_seed_writes_identical_bytes(tmp_path):
    write_synthetic(tmp_path / "a.parquet", 300, seed=5)
    write_synthetic(tmp_path / "b.parquet", 300, seed=5)
    assert (tmp_path / "a.parquet").read_bytes() == (tmp_path / "b.parquet").read_bytes()
    write_synthetic(tmp_path / "a.csv.gz", 300, seed=5)
    write_synthetic(tmp_path / "b.csv.gz", 300, seed=5)
    assert (tmp_path / "a.csv.gz").read_bytes() == (tmp_path / "b.csv.gz").read_bytes()


@pytest.mark.parametrize("name", ["orders.csv", "orders.csv.gz"])
def test_csv_round_trips_like_the_uci_file(tmp_path, name):
    info = write_synthetic(tmp_path / name, 300, seed=2)
    mem = synthetic(300, seed=2)
    back = pd.read_csv(
        tmp_path / name, dtype={"InvoiceNo": str, "StockCode": str}, parse_dates=["InvoiceDate"]
    )
    assert info["rows"] == len(back) and info["truth_path"] == str(
        tmp_path / "orders.truth.parquet"
    )
    pd.testing.assert_frame_equal(back, mem.orders)
    pd.testing.assert_frame_equal(pd.read_parquet(info["truth_path"]), mem.truth)
    assert not list(tmp_path.glob(".*tmp"))  # no temporary files left behind


def test_bad_arguments_raise_clear_errors(tmp_path):
    with pytest.raises(ConfigError, match="n_customers"):
        synthetic(0)
    with pytest.raises(ConfigError, match="not a date"):
        synthetic(10, start="yesterday")
    with pytest.raises(ConfigError, match="shorter than 60 days"):
        synthetic(10, start="2023-12-01", end="2023-12-31")
    with pytest.raises(ConfigError, match="anomaly_share"):
        synthetic(10, anomaly_share=0.9)
    with pytest.raises(ConfigError, match="q4_gift_buyer"):
        synthetic(10, start="2023-01-01", end="2023-09-30", horizon_days=30)
    bad = dict(
        DEFAULT_PERSONAS,
        regular_casual=PersonaSpec(share=0.3, orders_per_year=5, category_weights={"Shoes": 1}),
    )
    with pytest.raises(ConfigError, match="Shoes"):
        synthetic(10, personas=bad)
    with pytest.raises(OutputError, match=r"\.parquet, \.csv or \.csv\.gz"):
        write_synthetic(tmp_path / "orders.xlsx", 10)
    with pytest.raises(ConfigError, match="chunk_customers"):
        write_synthetic(tmp_path / "orders.parquet", 10, chunk_customers=0)
    assert not list(tmp_path.iterdir())


def test_the_demo_gives_a_clean_bgnbd_fit(data, caplog):
    """The demo's repeat buying and dropout identify every BG/NBD parameter: the fit converges
    inside its bounds, with standard errors, and logs nothing alarming (before, a and b ran off
    to exp(18) and the terminal showed ABNORMAL / Hessian / bound warnings)."""
    import logging

    from custlens.io.clean import clean
    from custlens.io.load import load
    from custlens.models.btyd import BetaGeoModel, summary_from_transactions

    purchases = clean(load(data.orders).table).purchases
    for end in ("2023-10-01", "2023-12-30"):  # the demo's backtest cutoff and its last day
        summary = summary_from_transactions(purchases, calibration_end=end, time_unit="D")
        with caplog.at_level(logging.WARNING, logger="custlens"):
            bg = BetaGeoModel().fit(summary["frequency"], summary["recency"], summary["T"])
        assert [r.getMessage() for r in caplog.records if r.levelno >= logging.WARNING] == []
        assert bg.dropout_limit_ is None
        assert bg.params_["a"] + bg.params_["b"] < 100
        for name, se in bg.standard_errors_.items():
            assert np.isfinite(se) and 0 < se < bg.params_[name], name
