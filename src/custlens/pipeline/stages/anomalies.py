"""Stage ``anomalies``: unusual customers (isolation forest with reasons) and unusual orders."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from custlens.io.frames import positions_of, round_floats, taken, to_frame
from custlens.pipeline.stage import StageContext, StageResult

if TYPE_CHECKING:
    import altair as alt

    from custlens.pipeline.results import Results
    from custlens.story import Section

# Columns of anomalies/customers.csv, in order (those present are written).
LISTED_COLUMNS = (
    "customer_id",
    "anomaly_score",
    "anomaly_reasons",
    "anomaly_reason_features",
    "segment",
    "persona",
    "monetary",
    "frequency",
    "recency_days",
    "max_order_value",
    "max_line_units",
)


@dataclass(frozen=True)
class AnomaliesResult(StageResult):
    """Flagged customers with reasons, extreme orders and order/cancellation pairs."""

    stage = "anomalies"

    @property
    def threshold(self) -> float:
        return float(self.summary["threshold"])

    @property
    def flagged(self) -> pd.DataFrame:
        return self.tables["customers"]

    def charts(self, results: Results) -> dict[str, alt.TopLevelMixin]:
        from custlens.charts.anomalies import anomaly_score_distribution, top_anomalies

        scored = results.customers[
            ["customer_id", "anomaly_score", "is_anomaly", "anomaly_reasons"]
        ]
        return {
            "anomaly_scores": anomaly_score_distribution(scored, self.threshold),
            "top_anomalies": top_anomalies(scored),
        }

    def section(self, results: Results) -> Section:
        from custlens.pipeline.stages.sections import anomalies_section

        return anomalies_section(self, results)

    def headline(self, results: Results) -> list[str]:
        return [f"Anomalous customers: {self.summary['flagged']:,} (see anomalies/customers.csv)"]


def run(ctx: StageContext) -> tuple[pd.DataFrame, AnomaliesResult]:
    """Isolation forest on customer features (plus pre-cleaning order signals); order listings."""
    from custlens.anomalies.isolation import CustomerAnomalyDetector
    from custlens.anomalies.orders import (
        cancellation_pairs,
        customer_order_signals,
        extreme_orders,
    )

    customers, settings = ctx.customers, ctx.settings
    cfg = settings.anomalies
    # in any order: they are looked up by customer id
    signals = round_floats(to_frame(customer_order_signals(ctx.transactions, cfg, as_of=ctx.as_of)))
    detector = CustomerAnomalyDetector.from_config(cfg, seed=settings.seed)
    # the customer table itself (not a copy of the detector's columns) with the signals beside
    frame = _with_signals(customers, signals)
    scored = detector.fit_transform(frame)
    columns = pd.DataFrame(
        {
            "max_line_units": frame["max_line_units"].to_numpy(),
            "cancelled_units_share": frame["cancelled_units_share"].to_numpy(),
            "anomaly_score": scored["anomaly_score"].round(9).to_numpy(),
            "is_anomaly": scored["is_anomaly"].to_numpy(),
            # the detector's reasons are text already ("" for customers it did not flag): in
            # words, and as feature names with raw values for machines
            "anomaly_reasons": scored["anomaly_reasons"].to_numpy(dtype=object),
            "anomaly_reason_features": scored["anomaly_reason_features"].to_numpy(dtype=object),
        },
        index=customers.index,
    )
    extreme = extreme_orders(ctx.transactions, cfg)
    pairs = cancellation_pairs(ctx.transactions, cfg, orders=extreme.orders["order_id"])
    extreme_listed = _with_cancelled(extreme.orders, pairs.cancelled_value)
    flagged = columns["is_anomaly"].to_numpy(dtype=bool)
    shown = [c for c in customers.columns if c in LISTED_COLUMNS]  # the others are not listed
    listed = pd.concat([customers.loc[flagged, shown], columns.loc[flagged]], axis=1)
    listed = listed.sort_values(["anomaly_score", "customer_id"], ascending=[False, True])
    summary = {
        "contamination": cfg.contamination,
        "threshold": float(detector.threshold_),
        "customers": len(customers),
        "flagged": len(listed),
        # how many each order-level rule found, and how many of them its CSV lists
        "extreme_orders": {"found": extreme.n_extreme, "listed": len(extreme.orders)},
        "cancellation_pairs": {"found": pairs.n_pairs, "listed": len(pairs.pairs)},
    }
    result = AnomaliesResult(
        tables={
            "customers": listed[[c for c in LISTED_COLUMNS if c in listed.columns]],
            "extreme_orders": extreme_listed,
            "cancellation_pairs": pairs.pairs,
        },
        summary=summary,
        columns=tuple(columns.columns),
        notes=(*detector.notes_, *extreme.notes),  # the orders an order rule left out
    )
    return columns, result


def _with_cancelled(orders: pd.DataFrame, cancelled: Mapping[str, float]) -> pd.DataFrame:
    """The extreme orders with the value of their lines cancelled later and its share of the
    order's value (0 for an order none of whose lines was cancelled)."""
    value = orders["order_id"].astype(str).map(cancelled).fillna(0.0).astype("float64")
    share = (value / orders["value"].astype("float64")).round(6)
    return orders.assign(cancelled_value=value.round(6), cancelled_share=share)


def _with_signals(customers: pd.DataFrame, signals: pd.DataFrame) -> pd.DataFrame:
    """``customers.merge(signals, on="customer_id", how="left", validate="1:1")`` without
    copying the customer table: each customer's row of the signals is found by id
    (``positions_of``: no Python string per customer) and the signal columns are put beside
    the customers' (missing -> NaN)."""
    at = positions_of(customers["customer_id"], signals["customer_id"], unique_ids=True)
    frame = customers.reset_index(drop=True)
    for name in signals.columns.drop("customer_id"):
        values = signals[name].to_numpy(dtype="float64", na_value=np.nan)
        frame[name] = taken(values, at)
    return frame
