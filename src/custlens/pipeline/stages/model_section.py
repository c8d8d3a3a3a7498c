"""The predictions section's blocks: the model card as data and the top spenders likely to churn."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import pandas as pd

from custlens.story import KPI, Bullets, Cards, Paragraph, chart_nodes, table_node

if TYPE_CHECKING:
    from custlens.pipeline.results import Results
    from custlens.pipeline.stages.predictions import PredictionsResult

_CHURN = ("roc_auc", "pr_auc", "brier", "n")
_CLV = ("spearman", "top_decile_capture", "mae", "rmse", "n")
AT_RISK_COLUMNS = (
    "customer_id",
    "segment",
    "persona",
    "monetary",
    "churn_probability",
    "clv",
    "recency_days",
    "reason_1",
    "reason_2",
)


def metrics_table(metrics: dict[str, Any], target: str, columns: tuple[str, ...]) -> pd.DataFrame:
    """One row per scorer (model and baselines) with the given metrics."""
    rows = [
        {"scorer": name, **{c: values.get(c) for c in columns}}
        for name, values in metrics.get(target, {}).items()
        if isinstance(values, dict) and any(c in values for c in columns)
    ]
    return pd.DataFrame(rows, columns=["scorer", *columns])


def at_risk(results: Results) -> pd.DataFrame:
    """High-value customers (top monetary share) whose churn probability is at or above the bar."""
    cfg, customers = results.settings.report, results.customers
    if "churn_probability" not in customers.columns:
        return customers.iloc[0:0]
    bar = customers["monetary"].quantile(cfg.high_value_quantile)
    risky = customers[
        (customers["monetary"] >= bar) & (customers["churn_probability"] >= cfg.at_risk_probability)
    ]
    if "low_confidence" in risky.columns:
        risky = risky[~risky["low_confidence"].fillna(False).astype(bool)]
    return risky.sort_values(["monetary", "customer_id"], ascending=[False, True])


def predictions_blocks(result: PredictionsResult, results: Results) -> tuple[list[Any], dict]:
    from custlens.models.model_card import scorer_names

    s, metrics, cfg = result.summary, dict(result.metrics or {}), results.settings.report
    churn = metrics_table(metrics, "churn", _CHURN)
    clv = metrics_table(metrics, "clv", _CLV)
    defaults = s.get("defaults", {})
    # the scorers in words, as in the model card ("LightGBM", "Pareto/NBD (+ Gamma-Gamma)")
    btyd = metrics.get("btyd", {})
    names = scorer_names(btyd.get("chosen") if isinstance(btyd, dict) else None)

    def words(scorer: Any) -> str:
        return names.get(str(scorer), str(scorer))

    fact: dict[str, Any] = {}
    model = defaults.get("churn")
    # the model's family: its uncalibrated twin is not another scorer
    family = "lightgbm" if str(model).startswith("lightgbm") else str(model)
    if len(churn) and model in set(churn["scorer"]):
        scores = churn.set_index("scorer")["roc_auc"].dropna()
        # every other scorer: the baselines, and LightGBM too when a baseline won the backtest
        baselines = scores.drop([i for i in scores.index if str(i).startswith(family)])
        fact["churn_model"] = words(model)
        fact["churn_auc"] = float(scores[model])
        if len(baselines):
            fact["best_baseline"] = words(baselines.idxmax())
            fact["baseline_auc"] = float(baselines.max())
    skipped = s.get("scores") == "skipped"  # no customer scored (models/confidence.py)
    risky = at_risk(results)
    total = float(results.customers["monetary"].sum())
    if not skipped:  # without scores there is no "at risk" count (the findings skip it)
        fact |= {
            "at_risk": len(risky),
            "at_risk_revenue_share": float(risky["monetary"].sum()) / total if total else 0.0,
            "at_risk_clv": float(risky["clv"].sum()) if "clv" in risky else 0.0,
            "high_value_share": 1 - cfg.high_value_quantile,
            "at_risk_probability": cfg.at_risk_probability,
        }
    drivers = sorted(s.get("importance", {}).items(), key=lambda kv: -kv[1])[:5]
    if drivers:
        fact["top_driver"] = drivers[0][0]
    cards = [KPI("Backtest", f"{s['eval_cutoff']}", f"+ {s['horizon_days']} days, never seen")]
    if "churn_auc" in fact:
        cards.append(KPI("Churn ROC AUC", f"{fact['churn_auc']:.2f}", f"scorer: {words(model)}"))
    if "baseline_auc" in fact:
        label = "Best baseline" if family == "lightgbm" else "Next best scorer"
        cards.append(KPI(label, f"{fact['baseline_auc']:.2f}", fact["best_baseline"]))
    if skipped:
        cards.append(KPI("Customer scores", "skipped", "as-of date beyond the data"))
    else:
        cards.append(
            KPI(
                "Top spenders likely to churn",
                f"{fact['at_risk']:,}",
                f"top {fact['high_value_share']:.0%} by spend; "
                f"{fact['at_risk_revenue_share']:.0%} of revenue",
            )
        )
    n = cfg.max_table_rows
    blocks: list[Any] = [
        Cards(tuple(cards)),
        table_node(
            "churn_metrics",
            "Churn: the model against every baseline",
            churn.assign(scorer=churn["scorer"].map(words)),
            n,
            caption="ROC and PR AUC: higher is better; Brier: lower is better.",
            source="predictions/metrics.json",
        ),
        table_node(
            "clv_metrics",
            "Customer value: the model against every baseline",
            clv.assign(scorer=clv["scorer"].map(words)),
            n,
            caption="Spearman and top-decile capture: higher is better; MAE, RMSE: lower.",
            source="predictions/metrics.json",
        ),
        Paragraph(
            f"Scorers used for every customer: churn = {words(defaults.get('churn'))}, "
            f"value = {words(defaults.get('clv'))} (a baseline that wins the backtest becomes the "
            "default). "
            "Full model card: models.md."
            if not skipped
            else f"No customer is scored as of {results.as_of}: it is more than the "
            f"{s['horizon_days']}-day horizon after the last purchase, where no backtest can "
            "check a prediction, so the score columns are empty (source 'withheld'). The "
            "backtest above stands. Leave the as-of date unset, or use data up to it, for scores."
        ),
    ]
    if drivers:
        blocks.append(
            Bullets(
                tuple(f"{name.replace('_', ' ')} ({value:.2f})" for name, value in drivers),
                title="Top churn drivers (mean |SHAP|)",
            )
        )
    if result.notes:  # what limits the scores (as-of date, training range, samples)
        blocks.append(Bullets(tuple(result.notes), title="Notes on these predictions"))
    blocks += chart_nodes(result.charts(results))
    if skipped:
        return blocks, fact
    blocks.append(
        table_node(
            "high_value_at_risk",
            "Top spenders likely to churn",
            risky,
            n,
            columns=AT_RISK_COLUMNS,
            percent=("churn_probability",),
            caption=f"Top {1 - cfg.high_value_quantile:.0%} by spend with a churn "
            f"probability of at least {cfg.at_risk_probability:.0%} (confident scores only); "
            "the largest spenders first.",
            source="customers.csv",
        )
    )
    return blocks, fact
