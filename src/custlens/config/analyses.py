"""Settings of the analyses after RFM: audit, anomalies, timing, features, personas."""

from __future__ import annotations

from typing import Literal

from pydantic import Field, model_validator

from custlens.config.base import _Strict


class AuditConfig(_Strict):
    """Segmentation audit (``custlens audit``): significance, effect and model settings."""

    alpha: float = Field(default=0.05, gt=0, lt=1)  # after Benjamini-Hochberg adjustment
    min_effect: float = Field(default=0.2, gt=0, le=1)  # |rank-biserial| worth acting on
    # a segment with fewer rows has a mean too thin to judge its rows against: its anomalies
    # and rate are reported as weak evidence (1 of 3 rows is no 33 % rate)
    min_segment_rows: int = Field(default=10, ge=2)
    min_anomalies_for_clusters: int = Field(default=10, ge=3)
    max_clusters: int = Field(default=6, ge=2)
    min_class_for_tree: int = Field(default=10, ge=4)  # per class (anomaly / rest)
    tree_max_depth: int = Field(default=4, ge=1, le=4)
    test_size: float = Field(default=0.3, gt=0, lt=1)
    max_category_levels: int = Field(default=30, ge=2)
    leakage_corr: float = Field(default=0.95, gt=0, le=1)  # |Spearman| with the metric
    auc_strong: float = Field(default=0.7, gt=0.5, le=1)
    auc_weak: float = Field(default=0.6, gt=0.5, le=1)
    # the fair tree must beat the segment-only tree by this much ROC-AUC to credit behaviour
    min_auc_gain: float = Field(default=0.05, ge=0, lt=0.5)
    top_rules: int = Field(default=5, ge=1)
    # points drawn in one chart; its data go inline into the spec, which Altair caps at 5,000 rows
    max_chart_points: int = Field(default=5000, ge=100, le=5000)
    # segments drawn in a per-segment chart (those with the most anomalies); each takes a band of
    # the figure and adds rows to its inline data
    max_chart_segments: int = Field(default=30, ge=2, le=200)


DEFAULT_ANOMALY_FEATURES = [
    "recency_days",
    "frequency",
    "monetary",
    "avg_order_value",
    "max_order_value",
    "max_items_per_order",
    "max_unit_price",
    "return_rate",
    "returned_items_share",
    "orders_per_active_month",
    "max_line_units",
    "cancelled_units_share",
]


class AnomalyConfig(_Strict):
    """Customer- and order-level anomaly rules (``custlens.anomalies``)."""

    # customer level: IsolationForest on a one-row-per-customer feature table
    # None = every numeric column except the id. The default set measures extremes and includes
    # the pre-cleaning order signals (max_line_units, cancelled_units_share) that cleaning hides.
    features: list[str] | None = Field(default_factory=lambda: list(DEFAULT_ANOMALY_FEATURES))
    contamination: float = Field(default=0.02, gt=0.0, le=0.5)
    n_estimators: int = Field(default=200, ge=10)
    skew_threshold: float = 1.0  # a non-negative feature with skewness above this gets log1p
    n_top_reasons: int = Field(default=3, ge=1)
    # the forest is fitted on a seeded sample of this many customers when there are more (each
    # tree learns from 256 either way); every customer is scored. None = fit on every customer
    fit_rows: int | None = Field(default=200_000, ge=1000)
    # order level: an order is extreme when its total value is beyond a robust threshold
    order_value_rule: Literal["log_mad", "quantile"] = "log_mad"
    order_value_mad_k: float = Field(default=4.0, gt=0.0)  # median + k * 1.4826 * MAD of ln(value)
    order_value_quantile: float = Field(default=0.999, gt=0.5, lt=1.0)
    # order/cancellation pairs: a purchase line and a later opposite cancellation line
    pair_window_days: int = Field(default=30, ge=0)
    cancellation_prefix: str = "C"
    max_listed: int = Field(default=100, ge=1)  # rows kept in each listing (largest first)


class TimingWindow(_Strict):
    """Hours ``[start, end)`` (0-24) on the given weekdays (Monday=0 ... Sunday=6)."""

    hours: tuple[int, int]
    weekdays: list[int] = Field(default_factory=lambda: list(range(7)))

    @model_validator(mode="after")
    def _check(self) -> TimingWindow:
        lo, hi = self.hours
        if not (0 <= lo < hi <= 24):
            raise ValueError(f"hours {lo}..{hi} must satisfy 0 <= start < end <= 24")
        bad = [d for d in self.weekdays if not 0 <= d <= 6]
        if bad or not self.weekdays:
            raise ValueError(f"weekdays must be a non-empty list within 0..6 (Monday=0), got {bad}")
        return self


class TimingPersonaRule(_Strict):
    """A customer gets this persona when at least ``min_share`` of their orders fall in the windows."""

    name: str
    windows: list[TimingWindow]
    min_share: float = Field(gt=0.0, le=1.0)
    description: str
    # the name and description when the orders carry no time of day and only the rule's
    # whole-day windows are kept; a rule that loses windows and has none is dropped then
    date_only_name: str | None = None
    date_only_description: str | None = None


DEFAULT_TIMING_PERSONAS = [
    TimingPersonaRule(
        name="Morning Planner",
        windows=[TimingWindow(hours=(0, 11))],
        min_share=0.6,
        description="Most orders are placed before 11:00.",
    ),
    TimingPersonaRule(
        name="Evening/Weekend Buyer",
        windows=[TimingWindow(hours=(17, 24)), TimingWindow(hours=(0, 24), weekdays=[5, 6])],
        min_share=0.5,
        description="Most orders come in the evening or at the weekend.",
        date_only_name="Weekend Buyer",
        date_only_description="Most orders come at the weekend.",
    ),
    TimingPersonaRule(
        name="Business-Hours Buyer",
        windows=[TimingWindow(hours=(9, 17), weekdays=[0, 1, 2, 3, 4])],
        min_share=0.7,
        description="Orders during office hours, Monday to Friday.",
    ),
]


class TimingConfig(_Strict):
    """Timing personas (first matching rule wins) and contact windows (``custlens.segment.timing``)."""

    personas: list[TimingPersonaRule] = Field(default_factory=lambda: list(DEFAULT_TIMING_PERSONAS))
    fallback_persona: str = "Anytime"  # enough orders, but no rule matched
    min_orders: int = Field(default=3, ge=1)
    few_orders_persona: str = "Too Few Orders"  # fewer than min_orders orders
    top_windows: int = Field(default=3, ge=1)  # best contact windows listed per segment


class LifecycleConfig(_Strict):
    """Lifecycle stage rules, checked in this order (first match wins): new, lapsed, at risk,
    growing, else mature. Tenure and recency count days from the first / last order date to as_of;
    cadence is the customer's mean interval between distinct order dates (none for one-date
    customers); trend is ``revenue_trend_90d`` (last 90 days vs the 90 before, in [-1, 1])."""

    new_max_tenure_days: int = Field(default=90, ge=1)  # new: tenure below this
    lapsed_min_recency_days: int = Field(default=180, ge=1)  # lapsed: recency above the larger of
    lapsed_cadence_multiple: float = Field(default=3.0, gt=0)  # this and multiple x cadence
    at_risk_cadence_multiple: float = Field(
        default=1.5, gt=0
    )  # at risk: recency > multiple x cadence
    at_risk_single_date_recency_days: int = Field(default=90, ge=1)  # ... or this, without cadence
    at_risk_max_revenue_trend: float = Field(default=-0.5, ge=-1, le=1)  # ... or trend below this
    mature_min_tenure_days: int = Field(default=365, ge=1)  # growing: tenure below this, or
    growing_min_revenue_trend: float = Field(default=0.5, ge=-1, le=1)  # trend at least this


class FeaturesConfig(_Strict):
    """Behavioural feature rules (see docs/features.md)."""

    bulk_min_median_items: float = Field(
        default=100.0, gt=0
    )  # bulk buyer: median items/order above
    lifecycle: LifecycleConfig = Field(default_factory=LifecycleConfig)


_PERSONA_OPS = (">", ">=", "<", "<=")

# What a customer does, not how long they have been around: tenure and raw recency are left
# out (they spread one-time buyers along the calendar and split them into "old" and "new");
# lateness is measured against the customer's own cadence (days_overdue) instead. Profiles and
# naming rules still see recency, tenure and return rate.
DEFAULT_PERSONA_FEATURES = [
    "frequency",
    "monetary",
    "avg_order_value",
    "avg_unit_price",
    "avg_items_per_order",
    "active_month_ratio",
    "days_overdue",
    "q4_share",
]


def parse_persona_condition(text: str) -> tuple[str, str, float]:
    """``"monetary_z > 0.8"`` -> ``("monetary_z", ">", 0.8)``; ValueError when malformed."""
    parts = text.split()
    if len(parts) != 3 or parts[1] not in _PERSONA_OPS:
        raise ValueError(
            f"condition {text!r} must read '<term> <op> <number>' with op one of "
            f"{' '.join(_PERSONA_OPS)}, separated by spaces (e.g. 'monetary_z > 0.8')"
        )
    term, op, number = parts
    if not term.replace("_", "").isalnum():
        raise ValueError(f"condition {text!r}: {term!r} is not a feature name")
    try:
        value = float(number)
    except ValueError:
        raise ValueError(f"condition {text!r}: {number!r} is not a number") from None
    return term, op, value


class PersonaRule(_Strict):
    """A persona name for a cluster whose profile meets every condition in ``when``.

    A condition reads ``"<term> <op> <number>"`` (op: ``> >= < <=``). ``<feature>_z`` is the
    z-score of the cluster's mean against all customers (on the clustering scale, i.e. after
    log1p for skewed features); a plain ``<feature>`` is the cluster's median in original units.
    A rule naming a feature the data lack never matches.
    """

    name: str = Field(min_length=1)
    when: list[str] = Field(min_length=1)
    description: str = ""

    @model_validator(mode="after")
    def _check_conditions(self) -> PersonaRule:
        for text in self.when:
            parse_persona_condition(text)
        return self

    def conditions(self) -> list[tuple[str, str, float]]:
        return [parse_persona_condition(t) for t in self.when]


DEFAULT_PERSONA_RULES = [
    PersonaRule(
        name="Bulk Wholesale",
        when=["avg_items_per_order_z > 1.0"],
        description="Many items per order: resellers, shops and businesses.",
    ),
    PersonaRule(
        name="At-Risk Former Regulars",
        when=["recency_days_z > 0.5", "frequency_z > 0.3"],
        description="Used to order often, but have not ordered for a long time.",
    ),
    PersonaRule(
        name="High-Value Loyal",
        when=["monetary_z > 0.8", "frequency_z > 0.5"],
        description="Spend the most and order often.",
    ),
    PersonaRule(  # tenure: customers who only arrived in Q4 have a Q4 share of 1 too
        name="Seasonal Q4 Gift Buyers",
        when=["q4_share_z > 0.8", "q4_share > 0.5", "tenure_days > 300"],
        description="Most of their orders fall in October to December, year after year.",
    ),
    PersonaRule(
        name="Recent Newcomers",
        when=["tenure_days_z < -0.8", "recency_days_z < -0.3"],
        description="First ordered recently.",
    ),
    PersonaRule(
        name="High Returners",
        when=["return_rate_z > 1.0"],
        description="Return a large share of what they buy.",
    ),
    PersonaRule(
        name="Bargain One-Timers",
        when=["frequency_z < -0.3", "avg_order_value_z < -0.3"],
        description="One small order, rarely more.",
    ),
    PersonaRule(
        name="Lapsing",
        when=["recency_days_z > 0.8"],
        description="Have not ordered for much longer than most customers.",
    ),
    PersonaRule(
        name="Low-Engagement Volatile",
        when=["frequency_z < -0.2", "spend_cv_z > 0.5"],
        description="Order rarely and spend very different amounts each time.",
    ),
    PersonaRule(
        name="Steady Regulars",
        when=["frequency_z > 0.3", "recency_days_z < 0.0"],
        description="Order regularly and recently.",
    ),
]

DEFAULT_FEATURE_PHRASES = {  # feature -> (phrase when low, phrase when high), for fallback names
    "recency_days": ("Recent", "Long-Inactive"),
    "frequency": ("Infrequent", "Frequent"),
    "monetary": ("Low-Spend", "High-Spend"),
    "avg_order_value": ("Small-Order", "Big-Order"),
    "tenure_days": ("New", "Long-Standing"),
    "avg_items_per_order": ("Small-Basket", "Large-Basket"),
    "q4_share": ("Off-Season", "Q4-Heavy"),
    "interval_mean_days": ("Short-Gap", "Long-Gap"),
    "return_rate": ("Low-Return", "High-Return"),
    "spend_cv": ("Steady-Spend", "Volatile-Spend"),
    "avg_unit_price": ("Low-Price", "High-Price"),
    "active_month_ratio": ("Sporadic", "Every-Month"),
    "days_overdue": ("On-Schedule", "Overdue"),
}


class PersonaConfig(_Strict):
    """Clustering personas (``custlens.segment.clustering`` / ``personas`` / ``explain``)."""

    features: list[str] = Field(default_factory=lambda: list(DEFAULT_PERSONA_FEATURES))
    k_min: int = Field(default=2, ge=2)
    k_max: int = Field(default=10, ge=2)
    minibatch_threshold: int = Field(default=50_000, ge=100)  # MiniBatchKMeans above this
    skew_threshold: float = 1.0  # a non-negative feature with skewness above this gets log1p
    log_features: list[str] | None = None  # explicit log1p list; None = by skewness
    outlier_z: float = Field(default=5.0, gt=0)  # any robust z beyond this: kept out of the fit
    outlier_quantile: float | None = Field(default=None, gt=0.5, lt=1)  # robust-distance quantile
    max_outlier_share: float = Field(default=0.05, gt=0, lt=0.5)
    silhouette_sample: int = Field(default=10_000, ge=100)
    fit_sample: int | None = Field(default=200_000, ge=1_000)  # fit k on a sample above this
    stability_seeds: int = Field(default=5, ge=2)
    rules: list[PersonaRule] = Field(default_factory=lambda: list(DEFAULT_PERSONA_RULES))
    feature_phrases: dict[str, tuple[str, str]] = Field(
        default_factory=lambda: dict(DEFAULT_FEATURE_PHRASES)
    )
    fallback_min_z: float = Field(default=0.3, ge=0)  # features this distinct name a cluster
    fallback_terms: int = Field(default=2, ge=1)
    typical_name: str = "Typical Customers"  # no rule and no distinct feature
    tree_max_depth: int = Field(default=4, ge=1, le=4)
    test_size: float = Field(default=0.3, gt=0, lt=1)
    permutation_repeats: int = Field(default=5, ge=1)
    forest_trees: int = Field(default=100, ge=10)
    # points drawn in one chart; its data go inline into the spec, which Altair caps at 5,000 rows
    max_chart_points: int = Field(default=5000, ge=100, le=5000)

    @model_validator(mode="after")
    def _check(self) -> PersonaConfig:
        if self.k_min > self.k_max:
            raise ValueError(f"k_min ({self.k_min}) must not exceed k_max ({self.k_max})")
        names = [r.name for r in self.rules]
        dupes = sorted({n for n in names if names.count(n) > 1})
        if dupes:
            raise ValueError(f"persona rule names must be unique; repeated: {dupes}")
        return self
