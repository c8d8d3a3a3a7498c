"""Write a run's outputs into a folder, atomically (see ``custlens.outputs``).

A non-empty target that custlens did not write (it has no ``run.json`` of ours) is refused unless
``force=True``.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pandas as pd
import pyarrow as pa
import pyarrow.csv as pacsv

from custlens import outputs

if TYPE_CHECKING:
    from custlens.pipeline import Results

MARKER = "run.json"

# Columns of the per-segment CRM lists, in order (those present are written).
CRM_COLUMNS = (
    "customer_id",
    "segment",
    "recency_days",
    "frequency",
    "monetary",
    "avg_order_value",
    "last_order",
    "r_score",
    "f_score",
    "m_score",
    "persona",
    "timing_persona",
    "churn_probability",
    "clv",
    "is_anomaly",
    "action",
)
ANOMALY_COLUMNS = (
    "customer_id",
    "anomaly_score",
    "anomaly_reasons",
    "segment",
    "persona",
    "monetary",
    "frequency",
    "recency_days",
    "max_order_value",
    "max_line_units",
)


def segment_slug(name: str) -> str:
    """``"Can't Lose Them"`` -> ``"cant_lose_them"``: a safe, stable file name."""
    slug = re.sub(r"[^0-9a-z]+", "_", name.lower().replace("'", "")).strip("_")
    return slug or "segment"


def _is_ours(path: Path) -> bool:
    marker = path / MARKER
    if not marker.is_file():
        return False
    try:
        return json.loads(marker.read_text(encoding="utf-8")).get("tool") == "custlens"
    except (OSError, ValueError):
        return False


def check_output_dir(out: str | Path, *, force: bool = False) -> Path:
    """Refuse an unusable results folder before any work is done; return it resolved."""
    return outputs.check_output_dir(out, is_ours=_is_ours, force=force)


def atomic_dir(out: str | Path, *, force: bool = False):
    """A staging folder that replaces the results folder ``out`` on success."""
    return outputs.atomic_dir(out, is_ours=_is_ours, force=force)


def _write_json(path: Path, data: Any) -> None:
    path.write_text(json.dumps(data, indent=2, default=str) + "\n", encoding="utf-8")


def _csv_ready(df: pd.DataFrame) -> pd.DataFrame:
    """Round money and times for humans; parquet keeps full precision."""
    out = df.copy(deep=False)  # columns are replaced below, never changed in place
    for col in out.columns:
        if pd.api.types.is_float_dtype(out[col]):
            out[col] = out[col].round(6)
        elif pd.api.types.is_datetime64_any_dtype(out[col]):
            out[col] = out[col].astype("datetime64[s]")
    return out


def _write_csv(df: pd.DataFrame, path: Path) -> None:
    """CSV through Arrow's writer: an order of magnitude faster than pandas on wide tables."""
    table = pa.Table.from_pandas(_csv_ready(df), preserve_index=False)
    pacsv.write_csv(table, path, pacsv.WriteOptions(quoting_style="needed"))


def write_results(
    results: Results,
    out: str | Path,
    *,
    force: bool = False,
    extra: Callable[[Path], None] | None = None,
) -> Path:
    """Write every output of a run into ``out`` atomically; return the folder."""
    target = Path(out).expanduser().resolve()
    with atomic_dir(target, force=force) as tmp:
        customers = results.customers
        customers.to_parquet(tmp / "customers.parquet", index=False)
        _write_csv(customers, tmp / "customers.csv")
        _write_csv(results.segment_summary, tmp / "segment_summary.csv")
        seg_dir = tmp / "segments"
        seg_dir.mkdir()
        cols = [c for c in CRM_COLUMNS if c in customers.columns]
        for name, group in customers.groupby("segment", sort=True):
            ranked = group.sort_values(["monetary", "customer_id"], ascending=[False, True])
            _write_csv(ranked[cols], seg_dir / f"{segment_slug(name)}.csv")
        _write_json(tmp / "quality.json", results.quality.to_dict())
        for relative, table in analysis_tables(results).items():
            path = tmp / relative
            path.parent.mkdir(parents=True, exist_ok=True)
            _write_csv(table, path)
        for relative, summary in analysis_summaries(results).items():
            _write_json(tmp / relative, summary)
        if results.predictions is not None:
            from custlens.models.persist import save_models

            save_models(results.predictions.models, tmp / "models")
            _write_json(
                tmp / "predictions" / "metrics.json", results.predictions.evaluation.metrics
            )
        if extra is not None:
            extra(tmp)
        _write_json(tmp / MARKER, results.run_info())
    return target


def analysis_summaries(results: Results) -> dict[str, dict[str, Any]]:
    """The headline numbers of the persona and anomaly analyses, keyed by their JSON path."""
    u = results.understanding
    customers = results.customers
    summaries: dict[str, dict[str, Any]] = {}
    if u.personas is not None:
        ks = u.k_selection
        chosen = [] if ks is None else ks.loc[ks["chosen"].astype(bool), "k"].tolist()
        personas: dict[str, Any] = {
            "k": int(chosen[0]) if chosen else None,
            "k_reason": u.k_reason,
            "stability_ari": u.stability_ari,
            "stability_seeds": results.settings.personas.stability_seeds,
            "outliers_kept_out_of_fit": len(
                u.persona_outliers if u.persona_outliers is not None else ()
            ),
            "sizes": {str(k): int(v) for k, v in customers["persona"].value_counts().items()},
        }
        if u.explanation is not None:
            e = u.explanation
            personas |= {
                "surrogate_tree_fidelity": e.fidelity,
                "forest_accuracy": e.forest_accuracy,
                "explained_on": {"train": e.n_train, "test": e.n_test},
            }
        summaries["personas/summary.json"] = personas
    if u.anomaly_threshold is not None:
        flags = customers["is_anomaly"].astype(bool)
        eo, cp = u.extreme_orders, u.cancellation_pairs
        summaries["anomalies/summary.json"] = {
            "contamination": results.settings.anomalies.contamination,
            "threshold": u.anomaly_threshold,
            "customers": len(customers),
            "flagged": int(flags.sum()),
            # how many each order-level rule found, and how many of them its CSV lists
            "extreme_orders": None
            if eo is None
            else {"found": eo.n_extreme, "listed": len(eo.orders)},
            "cancellation_pairs": None
            if cp is None
            else {"found": cp.n_pairs, "listed": len(cp.pairs)},
        }
    return summaries


def analysis_tables(results: Results) -> dict[str, pd.DataFrame]:
    """Every analysis table of a run, keyed by its path inside the results folder."""
    u = results.understanding
    tables: dict[str, pd.DataFrame | None] = {}
    if u.personas is not None:
        tables["personas/k_selection.csv"] = u.k_selection
        tables["personas/profiles.csv"] = u.personas.profiles
        tables["personas/map.csv"] = u.personas.map.coordinates
        tables["personas/outliers.csv"] = u.persona_outliers
    if u.explanation is not None:
        tables["personas/tree_rules.csv"] = u.explanation.rules
        tables["personas/permutation_importance.csv"] = u.explanation.permutation_importance
        tables["personas/forest_importance.csv"] = u.explanation.forest_importance
    if u.anomaly_threshold is not None:
        flagged = results.customers.loc[results.customers["is_anomaly"].astype(bool)]
        cols = [c for c in ANOMALY_COLUMNS if c in flagged.columns]
        tables["anomalies/customers.csv"] = flagged.sort_values(
            ["anomaly_score", "customer_id"], ascending=[False, True]
        )[cols]
    if u.extreme_orders is not None:
        tables["anomalies/extreme_orders.csv"] = u.extreme_orders.orders
    if u.cancellation_pairs is not None:
        tables["anomalies/cancellation_pairs.csv"] = u.cancellation_pairs.pairs
    if results.predictions is not None:
        for name, table in results.predictions.evaluation.tables.items():
            tables[f"predictions/{name}.csv"] = table
    tables["timing/hour_weekday.csv"] = u.hour_weekday
    tables["timing/quarter_seasonality.csv"] = u.quarter_seasonality
    tables["timing/month_seasonality.csv"] = u.month_seasonality
    tables["timing/contact_windows.csv"] = u.contact_windows
    return {k: v for k, v in tables.items() if v is not None}
