"""Stage ``predictions``: backtest on a true future period, then refit on everything and score."""

from __future__ import annotations

import dataclasses
import json
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pandas as pd

from custlens.io.past_lines import PastLines
from custlens.outputs import json_text
from custlens.pipeline.stage import StageContext, StageResult

if TYPE_CHECKING:
    import altair as alt
    import ibis

    from custlens.config import Settings
    from custlens.io.clean import Cleaned
    from custlens.models.trainer import ModelEvaluation, TrainedModels
    from custlens.pipeline.results import Results
    from custlens.story import Section

SCORE_COLUMNS = (
    "churn_probability",
    "churn_source",
    "p_alive",
    "expected_purchases",
    "clv",
    "clv_source",
    "next_purchase_window",
    "confidence_tier",
    "low_confidence",
    "reason_1",
    "reason_2",
    "reason_3",
)
METRICS = "predictions/metrics.json"
MODEL_CARD = "models.md"
MODELS = "models"


@dataclass(frozen=True)
class PredictionsResult(StageResult):
    """Backtest metrics against every baseline, calibration, lift and gains; the final models."""

    stage = "predictions"

    metrics: dict[str, Any] | None = None  # predictions/metrics.json
    models: TrainedModels | None = None  # refitted up to the as-of date; saved in models/

    @property
    def evaluation(self) -> ModelEvaluation:
        """The backtest's evaluation, as the model card and charts read it."""
        from custlens.models.trainer import ModelEvaluation

        s = self.summary
        return ModelEvaluation(
            metrics=dict(self.metrics or {}),
            tables=dict(self.tables),
            models=self.models,  # type: ignore[arg-type]  # the card and charts do not read it
            defaults=dict(s["defaults"]),
            train_cutoff=date.fromisoformat(s["train_cutoff"]) if s["train_cutoff"] else None,
            eval_cutoff=date.fromisoformat(s["eval_cutoff"]),
            horizon_days=int(s["horizon_days"]),
            importance=dict(s["importance"]),
        )

    def charts(self, results: Results) -> dict[str, alt.TopLevelMixin]:
        from custlens.charts.models import model_charts

        return {f"model_{k}": v for k, v in model_charts(self.evaluation).items()}

    def section(self, results: Results) -> Section:
        from custlens.pipeline.stages.sections import predictions_section

        return predictions_section(self, results)

    def headline(self, results: Results) -> list[str]:
        s = self.summary
        lines = [
            f"Predictions: backtest on {s['eval_cutoff']} + {s['horizon_days']} days; default "
            f"scorers churn = {s['defaults']['churn']}, CLV = {s['defaults']['clv']} "
            f"(see {MODEL_CARD})"
        ]
        btyd = (self.metrics or {}).get("btyd", {})
        if "chosen" in btyd:
            from custlens.models.btyd_card import btyd_headline

            lines.append(btyd_headline(btyd))
        if (self.metrics or {}).get("lightgbm_skipped"):
            lines.append("LightGBM not evaluated: no labelled period before the cutoff")
        if s.get("scores") == "skipped":
            lines.append(
                f"Customer scores skipped: the as-of date {results.as_of} is more than the "
                f"{s['horizon_days']}-day horizon after the data end (see the note)"
            )
            return lines
        if s.get("days_after_data"):
            lines.append(
                f"Scores as of {results.as_of} count the {s['days_after_data']:,} days after the "
                "last purchase as days without orders (see the notes in run.json)"
            )
        if s.get("out_of_range"):
            from custlens.models.scoring import out_of_range_words

            instead = f"; {out_of_range_words(self.models)}" if self.models is not None else ""
            lines.append(
                f"{s['out_of_range']:,} customers beyond the training recency (tier 'out of "
                f"range'): no next-purchase window{instead}"
            )
        return lines

    def documents(self) -> dict[str, str]:
        from custlens.models.model_card import render_model_card

        return {
            METRICS: json_text(self.metrics),
            MODEL_CARD: render_model_card(self.evaluation),
        }

    def write_files(self, folder: Path) -> None:
        if self.models is not None:
            from custlens.models.persist import save_models

            save_models(self.models, folder / MODELS)

    @classmethod
    def read_files(cls, folder: Path) -> dict[str, Any]:
        from custlens.models.persist import load_models

        extra: dict[str, Any] = {
            "metrics": json.loads((folder / METRICS).read_text(encoding="utf-8"))
        }
        if (folder / MODELS).is_dir():
            extra["models"] = load_models(folder / MODELS)
        return extra


def run(ctx: StageContext) -> tuple[pd.DataFrame, PredictionsResult]:
    """Evaluate on the future period after the cutoff, then score every customer as of ``as_of``.

    Backtest features are computed from what cleaning the raw lines before each cutoff on their
    own gives (derived from the one cleaning, see ``custlens.io.past_lines``), so nothing after a
    cutoff can reach a feature.
    """
    from custlens.config import FeaturesConfig
    from custlens.features.rfm import resolve_as_of
    from custlens.models.backtest import data_range
    from custlens.models.btyd_evaluation import level_note
    from custlens.models.churn import calibration_note
    from custlens.models.confidence import (
        OUT_OF_RANGE_TIER,
        beyond_training_summary,
        p_alive_note,
        withheld_reason,
        withheld_scores,
    )
    from custlens.models.score_notes import feature_rules
    from custlens.models.scoring import (
        final_cutoff_note,
        fit_final,
        out_of_range_words,
        reasons_note,
    )
    from custlens.models.trainer import backtest_and_evaluate, sample_note

    cfg, settings = ctx.settings.models, ctx.settings
    purchases, returns = ctx.cleaned.purchases, ctx.cleaned.returns
    history = history_of(ctx.transactions, settings, ctx.cleaned)
    evaluation = backtest_and_evaluate(
        purchases,
        returns,
        cutoff=cfg.cutoff,
        config=cfg,
        seed=settings.seed,
        history=history,
        customers_at_most=history.customers_at_most,
    )
    known = (evaluation.backtest,) if evaluation.backtest is not None else ()
    # the refit reuses the evaluation backtest's rows (``known``); nothing else reads them
    evaluation = dataclasses.replace(evaluation, backtest=None)
    day = resolve_as_of(purchases, ctx.as_of)
    last_purchase = data_range(purchases)[1]
    withheld = withheld_reason(day, last_purchase, cfg.horizon_days)
    level = level_note(
        evaluation.metrics.get("btyd", {}),
        cfg.btyd_level_tolerance,
        evaluation.eval_cutoff,
        evaluation.horizon_days,
    )
    models: TrainedModels | None = None
    if withheld is not None:  # nothing the data can check: no refit, no scores (confidence.py)
        scores = withheld_scores(ctx.customers, cfg, withheld)
        notes: tuple[str | None, ...] = (
            withheld + "; no final models are fitted or saved (the backtest's metrics stand)",
            sample_note(evaluation.metrics),
            level,
        )
    else:
        # the customer table's rows already hold the features as of ``as_of`` when it was
        # built with the default feature settings the models use
        same = ctx.as_of == day and settings.features == FeaturesConfig()
        models, scores = fit_final(
            purchases,
            returns,
            as_of=day,
            config=cfg,
            seed=settings.seed,
            defaults=evaluation.defaults,
            metrics=evaluation.metrics,
            history=history,
            known=known,
            table=ctx.customers if same else None,
        )
        models.importance = dict(evaluation.importance)
        models.cleaning_rules = feature_rules(settings.cleaning)
        notes = (
            final_cutoff_note(models, last_purchase),
            sample_note(evaluation.metrics),
            calibration_note(models.churn, "final churn model"),
            reasons_note(len(scores), cfg),
            beyond_training_summary(
                scores, models.train_recency_max, out_of_range_words(models), models.defaults
            ),
            p_alive_note(scores, models.defaults.get("btyd", "bgnbd")),
            level,
        )
    columns = align_scores(ctx.customers, scores)
    result = PredictionsResult(
        tables=dict(evaluation.tables),
        summary={
            "defaults": dict(evaluation.defaults),
            "train_cutoff": (
                evaluation.train_cutoff.isoformat() if evaluation.train_cutoff else None
            ),
            "eval_cutoff": evaluation.eval_cutoff.isoformat(),
            "horizon_days": evaluation.horizon_days,
            "importance": dict(evaluation.importance),
            # customer scores: "computed", or "skipped" (models/confidence.py); the days
            # between the last purchase and the as-of date counted as days without orders;
            # the customers beyond the training recency (tier "out of range")
            "scores": "skipped" if withheld else "computed",
            "days_after_data": max(0, (day - last_purchase).days - 1),
            "out_of_range": int((scores["confidence_tier"] == OUT_OF_RANGE_TIER).sum()),
        },
        columns=tuple(columns.columns),
        metrics=evaluation.metrics,
        models=models,
        notes=tuple(n for n in notes if n),
    )
    return columns, result


def history_of(transactions: ibis.Table, settings: Settings, cleaned: Cleaned | None = None):
    """``as_of -> (purchases, returns)`` knowable at ``as_of``: what cleaning the raw lines
    before it on their own gives (``cleaned``: ``transactions`` already cleaned, reused)."""
    return PastLines(transactions, settings.cleaning, cleaned)


def align_scores(customers: pd.DataFrame, scores: pd.DataFrame) -> pd.DataFrame:
    """The score columns in the customer table's row order (missing customers get nulls)."""
    cols = [c for c in SCORE_COLUMNS if c in scores.columns]
    ids = pd.Index(customers["customer_id"])
    if ids.equals(pd.Index(scores["customer_id"])):  # compared as Arrow strings: no copy
        out = scores[cols]  # the same customers in the same order (the usual case): no merge
    else:
        keyed = customers[["customer_id"]].merge(
            scores[["customer_id", *cols]], on="customer_id", how="left"
        )
        out = keyed.drop(columns="customer_id")
    out.index = customers.index
    return out
