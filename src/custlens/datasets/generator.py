"""Vectorised generation of one block of customers: their orders, lines, dirt and ground truth.

Customers are generated in fixed blocks of ``BLOCK_CUSTOMERS``; block ``b`` draws from its own
random stream ``SeedSequence(seed, spawn_key=(b,))``. Blocks are generated in order and only
the running invoice number links them, so the data do not depend on how blocks are grouped
into chunks for writing. Everything inside a block is numpy arrays: no Python loop per
customer, order or line (only small loops over personas).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from custlens.datasets.personas import ANONYMOUS_LINES_PER_ORDER
from custlens.datasets.plan import ANOMALY_LABEL, Plan

BLOCK_CUSTOMERS = 5_000
FIRST_CUSTOMER_ID = 12346
FIRST_INVOICE = 500_000
MINUTES_PER_DAY = 1440
ANONYMOUS_DISTINCT = 0.80  # measured share of requested products that are distinct in an order
# typical pack quantities; quantities are snapped to the nearest (in log scale)
_NICE_QTY = np.array(
    [
        1,
        2,
        3,
        4,
        5,
        6,
        8,
        10,
        12,
        15,
        16,
        18,
        20,
        24,
        25,
        30,
        32,
        36,
        40,
        48,
        50,
        60,
        64,
        72,
        80,
        96,
        100,
        120,
        144,
        150,
        160,
        192,
        200,
        240,
        250,
        288,
        300,
        360,
        400,
        432,
        480,
        500,
        576,
        600,
        640,
        720,
        800,
        864,
        960,
        1000,
        1200,
        1440,
        1500,
        2000,
        2400,
        3000,
        4000,
        4800,
        5000,
    ]
)
_NICE_MIDS = np.sqrt(_NICE_QTY[:-1] * _NICE_QTY[1:].astype(float))
# order types
_NORMAL, _BURST, _HUGE, _ABSURD, _ANON = 0, 1, 2, 3, 4
_KIND_TYPE = {"order_burst": _BURST, "huge_order": _HUGE, "absurd_quantity": _ABSURD}


@dataclass(frozen=True)
class Block:
    orders: pa.Table
    truth: pa.Table
    n_invoices: int


def _sample(cum: np.ndarray, rows: np.ndarray, u: np.ndarray) -> np.ndarray:
    """Index j with cum[row, j] <= u < cum[row, j + 1] (one searchsorted per distinct row)."""
    out = np.empty(len(u), dtype=np.int64)
    for r in np.flatnonzero(np.bincount(rows, minlength=cum.shape[0])):
        m = rows == r
        out[m] = np.searchsorted(cum[r], u[m], side="right") - 1
    return np.clip(out, 0, cum.shape[1] - 2, out=out)


def _days_between(plan: Plan, rng, rows: np.ndarray, lo: np.ndarray, hi: np.ndarray) -> np.ndarray:
    """A day in [lo, hi) for each item, weighted by the shop calendar of its persona row."""
    a, b = plan.day_cum[rows, lo], plan.day_cum[rows, hi]
    return _sample(plan.day_cum, rows, a + (b - a) * rng.random(len(rows)))


def _minutes(plan: Plan, rng, day: np.ndarray, hour_row: np.ndarray) -> np.ndarray:
    hour = plan.hours.draw(hour_row, rng.random(len(day)))
    return day * MINUTES_PER_DAY + hour * 60 + rng.integers(0, 60, len(day))


def _dropout_keep(
    plan: Plan, dropout_rng, n: int, proc: np.ndarray, owner: np.ndarray, first: np.ndarray
) -> np.ndarray:
    """Which candidate orders survive BG/NBD's dropout: with p ~ Beta(a, b) per customer, the
    customer leaves right after repeat order J ~ Geometric(p) (J = 1, 2, ...), so orders
    0 .. J are kept. From its own random stream, so the other draws do not move."""
    betas = [s.dropout_beta for s in plan.specs]
    a = np.array([b[0] if b else 1.0 for b in betas])[proc]
    b = np.array([b[1] if b else 1.0 for b in betas])[proc]
    has = np.array([bb is not None for bb in betas])[proc]
    p = dropout_rng.beta(a, b)
    last = np.where(has, dropout_rng.geometric(np.clip(p, 1e-12, 1.0)), np.iinfo(np.int64).max)
    index = np.arange(len(owner)) - first[owner]  # 0 = first order
    return index <= last[owner]


def _customer_orders(plan: Plan, rng, n: int, proc: np.ndarray, kind: np.ndarray, dropout_rng):
    """Order days and types of every customer: a renewal process in shop time, plus extras."""
    specs = plan.specs
    single = np.array([s.single_order for s in specs])[proc]
    shape = np.array([s.regularity for s in specs])[proc]
    spread = np.array([s.rate_spread for s in specs])[proc]
    rate = plan.rate[proc] * np.exp(spread * rng.standard_normal(n) - spread**2 / 2)
    lo, hi = plan.birth_days[proc, 0], plan.birth_days[proc, 1]
    u_birth = plan.day_cum[proc, lo] + (
        plan.day_cum[proc, hi] - plan.day_cum[proc, lo]
    ) * rng.random(n)
    birth = _sample(plan.day_cum, proc, u_birth)

    life = np.array([s.mean_lifetime_days for s in specs])[proc]
    finite = np.isfinite(life)
    death = np.full(n, plan.n_days, dtype=np.int64)
    draw = rng.exponential(1.0, n)
    death[finite] = birth[finite] + 1 + np.floor(draw[finite] * life[finite]).astype(np.int64)
    lapse = np.array([s.lapse_days_before_cutoff or (0, 0) for s in specs])[proc]
    lapses = np.array([s.lapse_days_before_cutoff is not None for s in specs])[proc]
    gone = plan.cutoff_day - rng.integers(lapse[:, 0], lapse[:, 1] + 1)
    death = np.where(lapses, np.maximum(gone, birth + 30), death)
    death = np.clip(death, birth + 1, plan.n_days)
    u_end = plan.day_cum[proc, death]

    expected = np.maximum(u_end - u_birth, 0.0) * np.where(single, 0.0, rate) / 365.0
    cand = np.where(single, 1, 1 + np.ceil(expected + 4 * np.sqrt(expected) + 4)).astype(np.int64)
    owner = np.repeat(np.arange(n), cand)
    first = np.cumsum(cand) - cand
    gaps = rng.gamma(shape[owner], 1.0) * (365.0 / (np.where(single, 1.0, rate) * shape))[owner]
    gaps[first] = 0.0
    cs = np.cumsum(gaps)
    u = u_birth[owner] + cs - cs[first][owner]
    keep = (u < u_end[owner]) & _dropout_keep(plan, dropout_rng, n, proc, owner, first)
    o_cust, o_day = owner[keep], _sample(plan.day_cum, proc[owner[keep]], u[keep])

    # a few single-order and lapsed customers come back once after the cutoff
    comeback = np.array([s.comeback_prob for s in specs])[proc]
    back = np.flatnonzero((rng.random(n) < comeback) & (plan.cutoff_day < plan.n_days))
    shop = np.full(len(back), len(specs))
    back_day = _days_between(
        plan, rng, shop, np.full(len(back), plan.cutoff_day), np.full(len(back), plan.n_days)
    )

    # planted anomalies: extra extreme orders on one day before the cutoff
    n_extra = np.zeros(n, dtype=np.int64)
    kinds = plan.anomaly_kinds
    for name, count in (
        ("order_burst", (40, 101)),
        ("huge_order", (1, 2)),
        ("absurd_quantity", (1, 3)),
    ):
        m = kind == kinds.index(name)
        n_extra[m] = rng.integers(*count, int(m.sum()))
    extra_type = np.zeros(n, dtype=np.int8)
    for name, t in _KIND_TYPE.items():
        extra_type[kind == kinds.index(name)] = t
    e_cust = np.repeat(np.arange(n), n_extra)
    shop = np.full(n, len(specs))
    e_day_c = _days_between(plan, rng, shop, birth, np.minimum(death, plan.cutoff_day))
    cust = np.concatenate([o_cust, back, e_cust])
    day = np.concatenate([o_day, back_day, e_day_c[e_cust]])
    typ = np.concatenate([np.zeros(len(o_cust) + len(back), np.int8), extra_type[e_cust]])
    return cust, day, typ


def _lines_per_order(rng, mean: np.ndarray) -> np.ndarray:
    lam = rng.gamma(2.0, np.maximum(mean - 1.0, 1e-9) / 2.0)
    return 1 + rng.poisson(lam)


def generate_block(plan: Plan, block: int, invoice_base: int) -> Block:
    """Generate customers ``block * BLOCK_CUSTOMERS ...`` with invoices numbered from invoice_base."""
    rng = np.random.default_rng(np.random.SeedSequence(plan.seed, spawn_key=(block,)))
    c0 = block * BLOCK_CUSTOMERS
    n = min(BLOCK_CUSTOMERS, plan.n_customers - c0)
    n_p, dirt, cat = len(plan.names), plan.dirt, plan.catalogue
    label = rng.choice(n_p, size=n, p=plan.shares)
    anomalous = rng.random(n) < plan.anomaly_share
    kind = np.where(anomalous, rng.choice(len(plan.anomaly_kinds), size=n, p=plan.anomaly_p), -1)
    proc = np.where(anomalous, plan.anomaly_base, label)
    country = plan.country.draw(np.zeros(n, np.int64), rng.random(n))
    lines_mean = np.array([s.lines_per_order for s in plan.specs])[proc] * np.exp(
        0.25 * rng.standard_normal(n) - 0.03
    )

    # --- orders: customers', then anonymous ones sized to the missing-customer share
    dropout_rng = np.random.default_rng(np.random.SeedSequence(plan.seed, spawn_key=(block, 1)))
    o_cust, o_day, o_type = _customer_orders(plan, rng, n, proc, kind, dropout_rng)
    n_co = len(o_cust)
    mean = np.select([o_type == _BURST, o_type == _HUGE], [1.2, 120.0], lines_mean[o_cust])
    n_lines = np.where(o_type == _ABSURD, 1, _lines_per_order(rng, mean))
    share = dirt.missing_customer_share
    # customer lines: cancellations and postage add about what de-duplication removes;
    # anonymous orders ask for ANONYMOUS_LINES_PER_ORDER products, ~ANONYMOUS_DISTINCT distinct
    per_order = ANONYMOUS_LINES_PER_ORDER * ANONYMOUS_DISTINCT
    n_anon = int(round(share / (1 - share) * n_lines.sum() / per_order))
    a_day = _days_between(
        plan, rng, np.full(n_anon, n_p), np.zeros(n_anon, np.int64), np.full(n_anon, plan.n_days)
    )
    a_country = np.where(
        rng.random(n_anon) < 0.95,
        plan.home_country,
        plan.country.draw(np.zeros(n_anon, np.int64), rng.random(n_anon)),
    )
    n_lines = np.concatenate(
        [n_lines, _lines_per_order(rng, np.full(n_anon, ANONYMOUS_LINES_PER_ORDER))]
    )
    ord_row = np.concatenate([proc[o_cust], np.full(n_anon, n_p)])
    ord_cust = np.concatenate([o_cust, np.full(n_anon, -1)])
    ord_type = np.concatenate([o_type, np.full(n_anon, _ANON, np.int8)])
    ord_country = np.concatenate([country[o_cust], a_country])
    ord_min = _minutes(plan, rng, np.concatenate([o_day, a_day]), plan.hour_rows[ord_row])
    n_ord = len(ord_cust)

    # --- product lines: distinct products per order
    line_ord = np.repeat(np.arange(n_ord), n_lines)
    product = plan.products.draw(ord_row[line_ord], rng.random(len(line_ord)))
    key = np.sort(line_ord * cat.n_products + product)
    key = key[np.concatenate([[True], key[1:] != key[:-1]])]
    line_ord, product = key // cat.n_products, key % cat.n_products
    row = ord_row[line_ord]
    raw = plan.qty_median[row] * np.exp(plan.qty_spread[row] * rng.standard_normal(len(row)))
    raw *= np.where(ord_type[line_ord] == _HUGE, 50.0, 1.0)
    qty = _NICE_QTY[np.searchsorted(_NICE_MIDS, raw)]
    absurd = ord_type[line_ord] == _ABSURD
    qty[absurd] = rng.integers(5_000, 90_001, int(absurd.sum()))
    price = cat.prices[product] * np.select([qty >= 1000, qty >= 100], [0.75, 0.85], 1.0)
    price = np.round(price, 2)
    anon_line = ord_cust[line_ord] < 0
    p_zero = np.where(
        anon_line,
        0.6 * dirt.zero_price_share / max(share, 1e-9),
        0.4 * dirt.zero_price_share / (1 - share),
    )
    first_line = np.concatenate([[True], line_ord[1:] != line_ord[:-1]])
    # free lines: never the first line of a customer's order, so every order is a real purchase
    zero = (rng.random(len(price)) < p_zero) & (anon_line | ~first_line)
    price[zero] = 0.0
    no_desc = zero & anon_line & (rng.random(len(price)) < dirt.missing_description_share)

    # --- cancellations ("C" invoices) and returns of earlier customer orders
    is_customer_order = np.arange(n_ord) < n_co
    high_ret = np.zeros(n_ord, bool)
    high_ret[:n_co] = kind[o_cust] == plan.anomaly_kinds.index("high_returns")
    p_cancel = np.select([high_ret, ord_type == _ABSURD], [0.85, 0.5], dirt.cancel_order_prob)
    cancelled = is_customer_order & (rng.random(n_ord) < p_cancel)
    returned = is_customer_order & ~cancelled & (rng.random(n_ord) < dirt.return_order_prob)
    events = []
    for flag, delay_p, incl in (
        (cancelled, 0.4, np.where(high_ret, 0.95, 0.5)),
        (returned, 0.12, np.full(n_ord, 0.2)),
    ):
        ev = np.flatnonzero(flag)
        ev_of = np.full(n_ord, -1)
        ev_of[ev] = np.arange(len(ev))
        delay = np.where(rng.random(len(ev)) < 0.4, 0, rng.geometric(delay_p, len(ev)))
        ts = _minutes(
            plan, rng, ord_min[ev] // MINUTES_PER_DAY + delay, np.zeros(len(ev), np.int64)
        )
        ts = np.maximum(ts, ord_min[ev] + 1 + rng.integers(0, 30, len(ev)))
        bound = np.where(
            ord_min[ev] < plan.cutoff_day * MINUTES_PER_DAY, plan.cutoff_day, plan.n_days
        )
        ts = np.maximum(np.minimum(ts, bound * MINUTES_PER_DAY - 1), ord_min[ev])
        pick = first_line | (rng.random(len(line_ord)) < incl[line_ord])
        sel = np.flatnonzero(flag[line_ord] & pick)
        q = qty[sel]
        part = np.maximum(1, np.floor(q * rng.uniform(0.2, 0.9, len(sel)))).astype(np.int64)
        events.append((ev, ts, sel, -np.where(rng.random(len(sel)) < 0.7, q, part)))

    # --- non-product lines: postage for orders abroad, occasional manual adjustments
    p_post = np.where(
        ord_country == plan.home_country, dirt.postage_prob_home, dirt.postage_prob_abroad
    )
    post = np.flatnonzero(rng.random(n_ord) < p_post)
    manual = np.flatnonzero(rng.random(n_ord) < dirt.manual_line_prob)
    m_price = np.maximum(0.01, np.round(np.exp(np.log(3.0) + rng.standard_normal(len(manual))), 2))

    (c_ev, c_ts, c_sel, c_q), (r_ev, r_ts, r_sel, r_q) = events
    n_c = len(c_ev)
    inv_min = np.concatenate([ord_min, c_ts, r_ts])
    inv_src = np.concatenate([np.arange(n_ord), c_ev, r_ev])  # originating order
    inv_is_c = np.concatenate(
        [np.zeros(n_ord, bool), np.ones(n_c, bool), np.zeros(len(r_ev), bool)]
    )
    c_of = np.full(n_ord, -1)
    c_of[c_ev] = np.arange(n_c)
    r_of = np.full(n_ord, -1)
    r_of[r_ev] = np.arange(len(r_ev))
    inv = np.concatenate(
        [line_ord, n_ord + c_of[line_ord[c_sel]], n_ord + n_c + r_of[line_ord[r_sel]], post, manual]
    )
    product = np.concatenate(
        [
            product,
            product[c_sel],
            product[r_sel],
            np.full(len(post), cat.postage_index),
            np.full(len(manual), cat.manual_index),
        ]
    )
    qty = np.concatenate(
        [qty, c_q, r_q, rng.integers(1, 4, len(post)), np.ones(len(manual), np.int64)]
    )
    price = np.concatenate(
        [price, price[c_sel], price[r_sel], plan.postage_price[ord_country[post]], m_price]
    )
    no_desc = np.concatenate([no_desc, np.zeros(len(inv) - len(no_desc), bool)])

    # --- ground truth from the generated lines (before duplicates are planted)
    cust_of_inv = ord_cust[inv_src]
    line_cust = cust_of_inv[inv]
    after = inv_min[inv] >= plan.cutoff_day * MINUTES_PER_DAY
    counted = after & (line_cust >= 0) & (product < cat.n_products)
    spend = np.bincount(line_cust[counted], weights=qty[counted] * price[counted], minlength=n)
    bought = np.zeros(len(inv_min), bool)
    bought[inv[counted & (qty > 0) & (price > 0) & ~inv_is_c[inv]]] = True
    n_after = np.bincount(cust_of_inv[bought], minlength=n)

    # --- invoice numbers in time order; lines grouped by invoice; exact duplicate lines
    order = np.argsort(inv_min, kind="stable")
    rank = np.empty(len(order), np.int64)
    rank[order] = np.arange(len(order))
    lines = np.argsort(rank[inv], kind="stable")
    lines = np.repeat(lines, 1 + (rng.random(len(lines)) < dirt.duplicate_line_share))
    li = inv[lines]
    cust = cust_of_inv[li]
    cid = np.where(cust >= 0, FIRST_CUSTOMER_ID + c0 + cust, np.nan)
    product = product[lines]
    numbers = pc.cast(pa.array(invoice_base + np.arange(len(order))), pa.string())
    numbers = pc.if_else(
        pa.array(inv_is_c[order]), pc.binary_join_element_wise("C", numbers, ""), numbers
    )
    table = pa.table(
        {
            "InvoiceNo": _coded(rank[li], numbers),
            "StockCode": _coded(product, plan.stock_codes),
            "Description": _coded(product, plan.descriptions, no_desc[lines]),
            "Quantity": pa.array(qty[lines].astype(np.int64)),
            "InvoiceDate": pa.array(plan.start_us + inv_min[li] * 60_000_000).view(
                pa.timestamp("us")
            ),
            "UnitPrice": pa.array(price[lines]),
            "CustomerID": pa.array(cid, mask=cust < 0),
            "Country": _coded(ord_country[inv_src[li]], plan.country_names),
            "Category": _coded(
                plan.category_of[product], plan.category_names, product >= cat.n_products
            ),
        }
    )
    names = np.array([*plan.names, ANOMALY_LABEL], dtype=object)
    truth = pa.table(
        {
            "customer_id": pc.cast(pa.array(FIRST_CUSTOMER_ID + c0 + np.arange(n)), pa.string()),
            "persona": pa.array(names[np.where(anomalous, n_p, label)], pa.string()),
            "is_anomaly": pa.array(anomalous),
            "anomaly_kind": pa.array(
                np.array([*plan.anomaly_kinds, None], dtype=object)[kind], pa.string()
            ),
            "cutoff": pa.array(np.full(n, np.datetime64(plan.cutoff, "us"))),
            "buys_after_cutoff": pa.array(n_after > 0),
            "spend_after_cutoff": pa.array(spend),
            "orders_after_cutoff": pa.array(n_after.astype(np.int64)),
        }
    )
    return Block(orders=table, truth=truth, n_invoices=len(inv_min))


def _coded(codes: np.ndarray, values: pa.Array, missing: np.ndarray | None = None) -> pa.Array:
    """A dictionary-encoded string column: no strings are copied per line."""
    return pa.DictionaryArray.from_arrays(pa.array(codes.astype(np.int32), mask=missing), values)
