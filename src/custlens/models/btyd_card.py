"""The BTYD part of the model card: BG/NBD and Pareto/NBD estimates with standard errors, the
choice between them on the future period, a degenerate fit in words, and the diagnostics
(holdout purchases per calibration frequency, the tracking table)."""

from __future__ import annotations

import math
from typing import Any

import pandas as pd

_MODEL = {"bgnbd": "BG/NBD", "pareto_nbd": "Pareto/NBD"}


def _num(v: object, digits: int = 4) -> str:
    if v is None or (isinstance(v, float) and not math.isfinite(v)):
        return "n/a"
    if isinstance(v, float):
        return f"{v:,.{digits}g}" if abs(v) < 1e6 else f"{v:.3g}"
    return str(v)


def btyd_headline(btyd: dict[str, Any]) -> str:
    """One CLI line: the chosen BTYD model and its holdout purchases, predicted vs actual."""
    chosen = btyd["chosen"]
    block = btyd[chosen]
    return (
        f"BTYD: {_MODEL[chosen]} chosen on the future period; holdout purchase days "
        f"predicted {block['holdout_predicted']:,.0f} vs actual {block['holdout_actual']:,.0f}"
    )


def btyd_section(btyd: dict[str, Any], tables: dict[str, pd.DataFrame]) -> list[str]:
    """Markdown lines of the BTYD section (empty when no BTYD model was fitted)."""
    if not any(k in btyd for k in _MODEL):
        return []
    lines = [
        "## BTYD models (BG/NBD, Pareto/NBD)",
        "",
        "Fitted on the feature window (times in days: alpha and beta divided by 7 give "
        "weeks); compared on the future period by "
        f"{btyd.get('chosen_by', 'holdout error')}.",
        "",
        "| model | parameters (standard error) | log-likelihood | holdout predicted | "
        "holdout actual | MAE per customer |",
        "|---|---|---|---|---|---|",
    ]
    for kind, name in _MODEL.items():
        if kind not in btyd:
            continue
        b = btyd[kind]
        params = ", ".join(
            f"{k} = {_num(v)} ({_num(b['standard_errors'].get(k))})" for k, v in b["params"].items()
        )
        mark = " (chosen)" if btyd.get("chosen") == kind else ""
        lines.append(
            f"| {name}{mark} | {params} | {b['log_likelihood']:,.1f} | "
            f"{b['holdout_predicted']:,.1f} | {b['holdout_actual']:,.0f} | "
            f"{b['holdout_mae']:.4f} |"
        )
    for kind, name in _MODEL.items():
        words = btyd.get(kind, {}).get("limit_words")  # a fit at a boundary, in words
        if words:
            lines += ["", f"{name}: {words}"]
    freq = tables.get("btyd_by_frequency")
    if freq is not None:
        lines += [
            "",
            "### Holdout purchase days per calibration repeat purchases",
            "",
            "| calibration repeats | customers | actual (mean) | predicted (mean) | actual "
            "(total) | predicted (total) |",
            "|---|---|---|---|---|---|",
        ]
        for row in freq.itertuples(index=False):
            lines.append(
                f"| {row.calibration_repeats} | {row.customers} | {_num(row.actual_mean, 3)} | "
                f"{_num(row.predicted_mean, 3)} | {_num(row.actual_total, 6)} | "
                f"{_num(row.predicted_total, 6)} |"
            )
    track = tables.get("btyd_tracking")
    if track is not None and len(track):
        cut = track[track["phase"] == "calibration"]
        end = track.iloc[-1]
        at_cut = cut.iloc[-1] if len(cut) else None
        lines += [""]
        if at_cut is not None:
            lines.append(
                f"Tracking ({end['unit']}ly, repeat purchase days of the calibration cohort): "
                f"cumulative at the end of calibration actual {at_cut['actual_cumulative']:,.0f}"
                f" vs expected {at_cut['predicted_cumulative']:,.1f}; at the end of the holdout "
                f"actual {end['actual_cumulative']:,.0f} vs expected "
                f"{end['predicted_cumulative']:,.1f} (table predictions/btyd_tracking.csv)."
            )
    return lines + [""]


def btyd_only_card(m: dict[str, Any], tables: dict[str, pd.DataFrame], eval_cutoff, h) -> str:
    """The model card when LightGBM could not be trained: baselines and BTYD on the future."""
    names = {"btyd": "BTYD", "last_period": "Last-period value", "recency": "Recency rule"}
    lines = [
        "# Model card",
        "",
        f"Evaluation: features as of {eval_cutoff} (calibration), outcomes in the {h} days "
        "after it (holdout). " + m["lightgbm_skipped"] + ".",
        "",
        f"Default scorers: churn = **{names.get(m['defaults']['churn'], m['defaults']['churn'])}"
        f"**, CLV = **{names.get(m['defaults']['clv'], m['defaults']['clv'])}**.",
        "",
        "## Churn (no order in the horizon)",
        "",
        "| method | ROC-AUC | PR-AUC | Brier |",
        "|---|---|---|---|",
    ]
    for k, v in m["churn"].items():
        lines.append(
            f"| {names.get(k, k)} | {_num(v['roc_auc'])} | {_num(v['pr_auc'])} | "
            f"{_num(v['brier'])} |"
        )
    lines += ["", "## CLV (revenue in the horizon)", ""]
    lines += ["| method | Spearman | MAE | RMSE | top-decile capture |", "|---|---|---|---|---|"]
    for k, v in m["clv"].items():
        lines.append(
            f"| {names.get(k, k)} | {_num(v['spearman'])} | {_num(v['mae'])} | "
            f"{_num(v['rmse'])} | {_num(v['top_decile_capture'])} |"
        )
    lines += ["", *btyd_section(m.get("btyd", {}), tables)]
    if m.get("notes"):
        lines += ["## Notes", "", *[f"- {n}" for n in m["notes"]]]
    return "\n".join(lines) + "\n"
