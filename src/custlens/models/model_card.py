"""The model card (``models.md``): metrics beside every baseline, calibration, threshold,
lift and gains, the top SHAP features, and which scorer is the default and why."""

from __future__ import annotations

import math

import pandas as pd

from custlens.models.btyd_card import btyd_only_card, btyd_section
from custlens.models.trainer import ModelEvaluation

_CHURN_ROWS = ("lightgbm", "lightgbm_uncalibrated", "btyd", "last_period", "recency")
_NAMES = {
    "lightgbm": "LightGBM",
    "lightgbm_uncalibrated": "LightGBM (uncalibrated)",
    "btyd": "BG/NBD (+ Gamma-Gamma)",
    "last_period": "Last-period value",
    "recency": "Recency rule",
    "class_shares": "Training class shares",
}


def _f(v: object, digits: int = 3) -> str:
    if v is None or (isinstance(v, float) and not math.isfinite(v)):
        return "n/a"
    if isinstance(v, float):
        return f"{v:,.0f}" if v.is_integer() and abs(v) >= 1 else f"{v:,.{digits}f}"
    return str(v)


def _cell(text: str) -> str:
    """A table cell's text: a "|" in it ("mean |SHAP|") would end the cell and break the table."""
    return text.replace("|", "\\|")


def _table(rows: list[list[object]], header: list[str]) -> list[str]:
    out = ["| " + " | ".join(map(_cell, header)) + " |", "|" + "---|" * len(header)]
    out += ["| " + " | ".join(_cell(_f(c)) for c in row) + " |" for row in rows]
    return out


def _df(t: pd.DataFrame, cols: list[str]) -> list[str]:
    # itertuples keeps each column's own type (iterrows would turn integer columns into floats)
    return _table([list(row) for row in t[cols].itertuples(index=False)], cols)


def _names(ev: ModelEvaluation) -> dict[str, str]:
    """The scorers' names, the BTYD one after the model chosen on the future period (it was
    always called BG/NBD, also when Pareto/NBD was chosen)."""
    return scorer_names(ev.defaults.get("btyd"))


def scorer_names(btyd: str | None) -> dict[str, str]:
    """Each scorer's name in words (``lightgbm`` -> "LightGBM"), BTYD's after the model
    ``btyd`` chosen on the future period (``bgnbd`` or ``pareto_nbd``; BG/NBD when None)."""
    from custlens.models.baselines import BTYD_NAMES

    name = BTYD_NAMES.get(btyd, "BG/NBD") if btyd else "BG/NBD"
    return {**_NAMES, "btyd": f"{name} (+ Gamma-Gamma)"}


def render_model_card(ev: ModelEvaluation) -> str:
    m = ev.metrics
    if m.get("lightgbm_skipped"):
        return btyd_only_card(m, ev.tables, ev.eval_cutoff, ev.horizon_days)
    names = _names(ev)
    lines = [
        "# Model card",
        "",
        f"Backtest: models trained on features as of {ev.train_cutoff} with labels from the next "
        f"{ev.horizon_days} days; evaluated on features as of {ev.eval_cutoff} and the "
        f"{ev.horizon_days} days after it, a period the models never saw.",
        "",
        f"Default scorers: churn = **{names[ev.defaults['churn']]}**, "
        f"CLV = **{names[ev.defaults['clv']]}** (a baseline becomes the default when it beats "
        "LightGBM on the future period: ROC-AUC for churn, Spearman for CLV).",
        "",
        "## Churn (no order in the horizon)",
        "",
    ]
    churn = m["churn"]
    rows = [
        [names[k], churn[k]["roc_auc"], churn[k]["pr_auc"], churn[k]["brier"]]
        for k in _CHURN_ROWS
        if k in churn
    ]
    lines += _table(rows, ["method", "ROC-AUC", "PR-AUC", "Brier"])
    cal = churn["calibration"]
    briers = ", ".join(f"{k} {v:.4f}" for k, v in cal["holdout_brier"].items())
    how = (
        f"skipped: {cal['skipped']}"
        if cal.get("skipped")
        else (
            f"out-of-fold Brier on {cal['holdout_n']} held-out training customers: {briers}; "
            "a calibration is used only if it lowers Brier"
        )
    )
    lines += ["", f"Calibration: **{cal['chosen']}** ({how}).", ""]
    th = churn["threshold"]
    ev_th = th["evaluation"]
    chosen = th.get("decision") or f"contact churn probability >= {ev_th['threshold']:.3f}"
    st = th.get("settings", {})
    costs = (
        f" (contact cost {st['contact_cost']:g}, margin {st['margin']:g}, retention uplift "
        f"{st['retention_uplift']:g})"
        if st
        else ""
    )
    ece = churn["lightgbm"].get("ece")
    lines += [
        f"Decision threshold ({th['goal']}{costs}, chosen on held-out training customers): "
        f"**{chosen}**. On the future period: precision {_f(ev_th['precision'])}, recall "
        f"{_f(ev_th['recall'])}, {ev_th['contacted']} contacted, expected profit "
        f"{_f(ev_th['profit'], 2)}.",
        "",
    ]
    if ece is not None:
        lines += [
            f"Expected calibration error on the future period: {_f(ece)} (share-weighted "
            "|mean predicted - observed| over the deciles below).",
            "",
        ]
    lines += [
        "### Calibration table (future period)",
        "",
        *_df(ev.tables["churn_calibration"], ["decile", "n", "mean_predicted", "observed_rate"]),
        "",
        "### Lift and cumulative gains (churn)",
        "",
        *_df(ev.tables["churn_lift"], ["decile", "n", "rate", "lift", "cumulative_gain"]),
        "",
        "## CLV (revenue in the horizon)",
        "",
    ]
    rows = [
        [names[k], v["spearman"], v["mae"], v["rmse"], v["top_decile_capture"]]
        for k, v in m["clv"].items()
    ]
    lines += _table(rows, ["method", "Spearman", "MAE", "RMSE", "top-decile capture"])
    lines += [
        "",
        *_df(ev.tables["clv_lift"], ["decile", "n", "total", "lift", "cumulative_gain"]),
        "",
    ]
    if "next_purchase" in m:
        lines += ["## Next purchase window", ""]
        rows = [
            [names[k], v["accuracy"], v["log_loss"], v["macro_roc_auc"]]
            for k, v in m["next_purchase"].items()
        ]
        lines += _table(rows, ["method", "accuracy", "log loss", "macro ROC-AUC"]) + [""]
    lines += ["## Top churn drivers (mean |SHAP|, log-odds)", ""]
    lines += _table(
        [[k, v] for k, v in list(ev.importance.items())[:10]], ["feature", "mean |SHAP|"]
    )
    lines += ["", *btyd_section(m.get("btyd", {}), ev.tables)]
    if m.get("notes"):
        lines += ["", "## Notes", "", *[f"- {n}" for n in m["notes"]]]
    return "\n".join(lines) + "\n"
