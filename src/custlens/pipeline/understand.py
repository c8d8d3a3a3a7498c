"""Issue 3's stages on the materialised customer table: personas, anomalies and timing."""

from __future__ import annotations

import logging
from datetime import date

import ibis
import pandas as pd

from custlens.anomalies.isolation import CustomerAnomalyDetector
from custlens.anomalies.orders import cancellation_pairs, customer_order_signals, extreme_orders
from custlens.config import Settings
from custlens.io.frames import to_frame
from custlens.segment.clustering import PersonaClusterer
from custlens.segment.explain import explain_personas
from custlens.segment.personas import build_personas
from custlens.segment.timing import (
    best_contact_windows,
    hour_weekday,
    seasonality,
    timing_personas,
)

log = logging.getLogger(__name__)
ALL_CUSTOMERS = "All customers"


def personas(customers: pd.DataFrame, settings: Settings) -> tuple[pd.DataFrame, dict]:
    """Cluster, name and explain; returns the customer columns to add and the parts to keep."""
    clusterer = PersonaClusterer.from_config(settings.personas, seed=settings.seed)
    clusterer.fit(customers)
    found = build_personas(customers, clusterer, settings.personas, seed=settings.seed)
    explanation = explain_personas(
        customers,
        found.assignments["persona"].to_numpy(),
        clusterer.features_,
        seed=settings.seed,
        max_depth=settings.personas.tree_max_depth,
        permutation_repeats=settings.personas.permutation_repeats,
        forest_trees=settings.personas.forest_trees,
    )
    columns = found.assignments[["persona", "persona_outlier"]].copy()
    columns.index = customers.index
    parts = {
        "personas": found,
        "k_selection": clusterer.selection_,
        "k_reason": clusterer.selection_reason_,
        "stability_ari": float(clusterer.stability_) if clusterer.stability_ is not None else None,
        "persona_outliers": clusterer.outliers_,
        "explanation": explanation,
        "notes": tuple(clusterer.notes_) + tuple(found.notes) + tuple(explanation.notes),
    }
    return columns, parts


def anomalies(
    customers: pd.DataFrame, transactions: ibis.Table, as_of: date, settings: Settings
) -> tuple[pd.DataFrame, dict]:
    """Isolation forest on customer features (plus pre-cleaning order signals); order listings."""
    cfg = settings.anomalies
    signals = to_frame(customer_order_signals(transactions, cfg, as_of=as_of))
    frame = customers.merge(signals, on="customer_id", how="left", validate="1:1")
    detector = CustomerAnomalyDetector.from_config(cfg, seed=settings.seed)
    scored = detector.fit_transform(frame)
    columns = pd.DataFrame(
        {
            "max_line_units": frame["max_line_units"].to_numpy(),
            "cancelled_units_share": frame["cancelled_units_share"].to_numpy(),
            "anomaly_score": scored["anomaly_score"].to_numpy(),
            "is_anomaly": scored["is_anomaly"].to_numpy(),
            "anomaly_reasons": [_reasons_text(r) for r in scored["anomaly_reasons"]],
        },
        index=customers.index,
    )
    parts = {
        "anomaly_threshold": float(detector.threshold_),
        "extreme_orders": extreme_orders(transactions, cfg),
        "cancellation_pairs": cancellation_pairs(transactions, cfg),
        "notes": tuple(detector.notes_),
    }
    return columns, parts


def _reasons_text(reasons: object) -> str:
    if isinstance(reasons, str):
        return reasons
    if reasons is None:
        return ""
    return "; ".join(str(r) for r in reasons)


def timing(
    customers: pd.DataFrame, purchases: ibis.Table, settings: Settings
) -> tuple[pd.DataFrame, dict]:
    """Hour x weekday and seasonality overall and per segment, timing personas, contact windows."""
    segments = customers[["customer_id", "segment"]]
    overall = hour_weekday(purchases).assign(segment=ALL_CUSTOMERS)
    per_segment = hour_weekday(purchases, segments)
    grid = pd.concat([overall[per_segment.columns], per_segment], ignore_index=True)
    personas_t = timing_personas(purchases, settings.timing)
    merged = customers[["customer_id"]].merge(
        personas_t[["customer_id", "timing_persona"]], on="customer_id", how="left"
    )
    columns = pd.DataFrame({"timing_persona": merged["timing_persona"].to_numpy()})
    columns.index = customers.index
    parts = {
        "hour_weekday": grid,
        "quarter_seasonality": seasonality(purchases, segments, period="quarter"),
        "month_seasonality": seasonality(purchases, segments, period="month"),
        "contact_windows": best_contact_windows(grid, top_n=settings.timing.top_windows),
    }
    return columns, parts
