"""Realistic synthetic order logs with ground truth (UCI Online Retail layout).

``synthetic(n)`` returns the orders of ``n`` customers, who belong to planted personas with
distinct behaviour (plus a few planted anomalies), mixed with anonymous orders and the usual
dirt (cancellations, returns, duplicates, postage and manual lines, zero prices). The truth
table says, per customer, the persona, whether it is an anomaly and what it bought after the
cutoff (``end - horizon_days``), computed from the generated lines themselves.

Columns of ``orders``: InvoiceNo (str; cancellations start with "C"), StockCode (str),
Description (str, missing on some zero-price anonymous lines), Quantity (int64; negative on
cancellations and returns), InvoiceDate (datetime64[us], whole minutes), UnitPrice (float64),
CustomerID (float64, NaN for anonymous orders, as pandas reads the UCI file), Country (str),
Category (str, missing on non-product lines POST and M).

Columns of ``truth`` (one row per customer, in CustomerID order): customer_id (str, e.g.
"12346"), persona (str; "anomaly" for planted anomalies), is_anomaly (bool), anomaly_kind (str
or missing), cutoff (datetime64[us], midnight of the cutoff date), buys_after_cutoff (bool),
spend_after_cutoff (float64), orders_after_cutoff (int64).

"After the cutoff" means ``InvoiceDate >= cutoff`` (midnight), the complement of the
feature window ``InvoiceDate < as_of`` with ``as_of = cutoff``. spend_after_cutoff is the sum of
Quantity * UnitPrice over the customer's product lines (StockCode not POST/M) dated after the
cutoff, counting each generated line once (planted duplicates excluded): purchases minus their
cancellations and returns. A cancellation or return is always dated in the same period (before
or after the cutoff) as the order it undoes, so this equals "net purchase value of the orders
placed after the cutoff". orders_after_cutoff counts the customer's non-cancellation invoices
after the cutoff with at least one product line of positive quantity and price;
buys_after_cutoff is ``orders_after_cutoff > 0``.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from datetime import date

import pandas as pd
import pyarrow as pa

from custlens.datasets.generator import BLOCK_CUSTOMERS, FIRST_INVOICE, Block, generate_block
from custlens.datasets.personas import DEFAULT_PERSONAS, DirtRates, PersonaSpec
from custlens.datasets.plan import Plan, make_plan

log = logging.getLogger(__name__)

ORDER_COLUMNS = (
    "InvoiceNo",
    "StockCode",
    "Description",
    "Quantity",
    "InvoiceDate",
    "UnitPrice",
    "CustomerID",
    "Country",
    "Category",
)
TRUTH_COLUMNS = (
    "customer_id",
    "persona",
    "is_anomaly",
    "anomaly_kind",
    "cutoff",
    "buys_after_cutoff",
    "spend_after_cutoff",
    "orders_after_cutoff",
)


@dataclass(frozen=True)
class SyntheticData:
    """Generated orders, the per-customer ground truth, and the dates that frame them."""

    orders: pd.DataFrame
    truth: pd.DataFrame
    cutoff: date
    start: date
    end: date


def plan_for(
    n_customers: int,
    *,
    seed: int = 0,
    start: str | date = "2022-01-01",
    end: str | date = "2023-12-31",
    horizon_days: int = 90,
    anomaly_share: float = 0.02,
    personas: Mapping[str, PersonaSpec] | None = None,
    dirt: DirtRates | None = None,
) -> Plan:
    """Validate the generation arguments (raises ``ConfigError``) and prepare the tables."""
    return make_plan(
        n_customers,
        seed=seed,
        start=start,
        end=end,
        horizon_days=horizon_days,
        anomaly_share=anomaly_share,
        personas=DEFAULT_PERSONAS if personas is None else personas,
        dirt=DirtRates() if dirt is None else dirt,
    )


def decode(table: pa.Table) -> pa.Table:
    """The table with dictionary-encoded string columns turned into plain strings."""
    return table.cast(
        pa.schema(
            [
                pa.field(f.name, pa.string()) if pa.types.is_dictionary(f.type) else f
                for f in table.schema
            ]
        )
    )


def iter_blocks(plan: Plan) -> Iterator[Block]:
    """The blocks of ``plan`` in order; the one procedure behind ``synthetic`` and the writer."""
    invoice = FIRST_INVOICE
    n_blocks = -(-plan.n_customers // BLOCK_CUSTOMERS)
    for b in range(n_blocks):
        block = generate_block(plan, b, invoice)
        invoice += block.n_invoices
        yield block


def synthetic(
    n_customers: int = 2000,
    *,
    seed: int = 0,
    start: str | date = "2022-01-01",
    end: str | date = "2023-12-31",
    horizon_days: int = 90,
    anomaly_share: float = 0.02,
    personas: Mapping[str, PersonaSpec] | None = None,
    dirt: DirtRates | None = None,
) -> SyntheticData:
    """Synthetic orders of ``n_customers`` customers from ``start`` to ``end`` (inclusive).

    The same arguments always give identical data. ``personas`` (name -> PersonaSpec, default
    ``DEFAULT_PERSONAS``) sets the mix and behaviour; it must keep "regular_casual", which the
    planted anomalies (``anomaly_share`` of customers) buy like apart from their extreme acts.

    Returns
    -------
    SyntheticData
        ``orders`` (UCI Online Retail layout plus ``Category``) and ``truth`` (one row per
        customer: planted persona, anomaly flag, future behaviour).

    Raises
    ------
    ConfigError
        An argument out of range.

    Examples
    --------
    >>> data = synthetic(50, seed=1)
    >>> len(data.truth), data.truth["customer_id"].is_unique
    (50, True)
    >>> data.orders.equals(synthetic(50, seed=1).orders)
    True
    """
    plan = plan_for(
        n_customers,
        seed=seed,
        start=start,
        end=end,
        horizon_days=horizon_days,
        anomaly_share=anomaly_share,
        personas=personas,
        dirt=dirt,
    )
    blocks = list(iter_blocks(plan))
    orders = decode(pa.concat_tables([b.orders for b in blocks])).to_pandas()
    truth = pa.concat_tables([b.truth for b in blocks]).to_pandas()
    log.info("generated %d order lines for %d customers", len(orders), len(truth))
    return SyntheticData(
        orders=orders, truth=truth, cutoff=plan.cutoff, start=plan.start, end=plan.end
    )
