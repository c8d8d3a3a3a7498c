"""Prediction settings: backtest, LightGBM, thresholds and confidence tiers."""

from __future__ import annotations

from datetime import date
from typing import Literal

from pydantic import AliasChoices, Field, model_validator

from custlens.config.base import _Strict


class TierRule(_Strict):
    """A confidence tier: a customer gets the first rule whose set limits all hold."""

    name: str = Field(min_length=1)
    max_orders: int | None = Field(default=None, ge=1)  # frequency <= this
    max_tenure_days: int | None = Field(default=None, ge=0)  # tenure_days <= this
    low_confidence: bool = False  # scores flagged; churn comes from the BTYD/recency baseline


DEFAULT_TIERS = [
    TierRule(name="new", max_tenure_days=30, low_confidence=True),
    TierRule(name="cold start", max_orders=1, low_confidence=True),
    TierRule(name="emerging", max_orders=3),
    TierRule(name="emerging", max_tenure_days=180),
    TierRule(name="established"),
]


class ModelsConfig(_Strict):
    """Backtest, LightGBM models, baselines, decision threshold and scoring (``custlens.models``)."""

    horizon_days: int = Field(default=90, ge=7, le=3660)
    cutoff: date | None = None  # last day of the feature window; None = last purchase - horizon
    min_customers: int = Field(default=50, ge=10)  # per backtest period
    # churners and non-churners each: per backtest period, and in the churn model's held-out
    # part for choosing a calibration (fewer: the raw probabilities, with a note)
    min_class: int = Field(default=10, ge=2)
    behavioral: bool = True  # add behavioral_features to the customer table
    n_estimators: int = Field(default=300, ge=1)
    learning_rate: float = Field(default=0.03, gt=0, le=1)
    num_leaves: int = Field(default=7, ge=2)
    min_child_samples: int = Field(default=50, ge=1)
    n_jobs: int = Field(default=1, ge=1)  # threads per model fit (fits run side by side)
    # LightGBM trains on a seeded sample of this many rows (customers; with stacked cutoffs,
    # customer x cutoff rows, capped in total) (None: all); every customer is still scored.
    # Beyond ~50k-100k rows more rows barely change these small trees (docs/benchmarks.md).
    max_train_rows: int | None = Field(default=100_000, ge=1000)
    shap_rows: int = Field(default=50_000, ge=100)  # rows behind the mean |SHAP| importance
    # Per-customer reasons (exact TreeSHAP, ~150 us a customer) for at most this many customers:
    # those with the largest churn probability x spend (monetary); the others' reason cells stay
    # empty, with one run note. None: every customer.
    reason_rows: int | None = Field(default=100_000, ge=1)
    # BG/NBD, Pareto/NBD and Gamma-Gamma are fitted on a seeded sample of this many customers
    # when there are more (None: all); every customer is still scored. The Pareto/NBD fit's time
    # grows with the distinct (x, t_x, T) rows: about a minute at 1M customers.
    btyd_fit_rows: int | None = Field(default=100_000, ge=1000)
    # The chosen BTYD model's predicted purchase days of the backtest's customers in its future
    # period may miss what they bought by this share before a run note says so (BTYD assumes steady rates: a seasonal peak or a trend there is outside it)
    btyd_level_tolerance: float = Field(default=0.15, gt=0)
    # The backtest's metrics (every scorer, the BTYD choice, calibration, lift) are computed on
    # a seeded sample of this many of the evaluation period's customers when there are more
    # (None: all): on 200,000 customers a ROC AUC near 0.8 has a standard error of about 0.002,
    # while predicting every model and baseline for millions of customers costs minutes.
    eval_rows: int | None = Field(default=200_000, ge=1000)
    holdout_share: float = Field(default=0.25, gt=0, lt=0.5)  # calibration / threshold part
    # Training stacks backtests at several cutoffs (the latest one horizon before the evaluation
    # cutoff, then every ``stack_step_days`` back) so that the models see several seasons.
    # Default 1 (a single cutoff): measured in docs/configuration.md, stacking lowered the future
    # calibration error on Online Retail but lowered ROC-AUC on CDNOW's single cohort.
    # ``stack_month_feature`` adds the cutoff's month (``cutoff_month``); a month no training
    # cutoff had is extrapolated from the nearest one, which hurt on Online Retail.
    stack_cutoffs: int = Field(default=1, ge=1)
    stack_step_days: int = Field(default=30, ge=1)
    stack_min_history_days: int = Field(default=30, ge=1)  # feature window of the oldest cutoff
    stack_month_feature: bool = False
    next_purchase_edges: tuple[int, int] = (30, 90)  # classes: <= a, a+1..b, later or never
    discount_rate: float = Field(default=0.1, gt=-1)  # annual, for the scored CLV
    threshold_goal: Literal["profit", "recall_at_precision"] = "profit"
    # Profit of a retention contact (see docs/configuration.md): contacting costs
    # ``contact_cost``; a contacted churner is kept with probability ``retention_uplift`` and is
    # then worth ``margin`` x their revenue of the last horizon. No profitable threshold: nobody.
    contact_cost: float = Field(default=1.0, ge=0)  # cost of contacting one customer
    margin: float = Field(default=0.3, gt=0, le=1)  # profit share of revenue
    retention_uplift: float = Field(
        default=0.2, gt=0, le=1, validation_alias=AliasChoices("retention_uplift", "save_rate")
    )  # share of contacted churners kept thanks to the contact (formerly ``save_rate``)
    min_precision: float = Field(default=0.5, gt=0, lt=1)  # for recall_at_precision
    choose_margin: float = Field(default=0.0, ge=0)  # a baseline must win by more than this
    tiers: list[TierRule] = Field(default_factory=lambda: list(DEFAULT_TIERS))
    top_reasons: int = Field(default=3, ge=1)

    @model_validator(mode="after")
    def _check(self) -> ModelsConfig:
        lo, hi = self.next_purchase_edges
        if not 0 < lo < hi:
            raise ValueError(f"next_purchase_edges {lo}, {hi} must satisfy 0 < first < second")
        if not self.tiers:
            raise ValueError("tiers must list at least one rule")
        return self


# Optional analyses after the RFM table; personas and anomalies need the features.
