"""Settings: every business rule is data with a default, overridable from ``custlens.toml``.

Precedence: built-in defaults < config file < explicit arguments (CLI flags or API keywords).
"""

from __future__ import annotations

import tomllib
from datetime import date
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from custlens.errors import ConfigError

RFM_BINS = 5

DEFAULT_NON_PRODUCT_CODES = [
    "POST",  # postage
    "DOT",  # dotcom postage
    "C2",  # carriage
    "M",  # manual adjustment
    "D",  # discount
    "S",  # samples
    "B",  # adjust bad debt
    "BANK CHARGES",
    "AMAZONFEE",
    "CRUK",  # charity commission
    "ADJUST",
    "ADJUST2",
    "TEST001",
    "TEST002",
    "PADS",  # "pads to match all cushions", a 0.001 placeholder line
    "FEE",
    "SHIPPING",
    "DISCOUNT",
]
DEFAULT_NON_PRODUCT_PREFIXES = ["gift_0001_", "DCGS"]


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class MappingConfig(_Strict):
    """How source columns map onto canonical columns."""

    preset: str | None = None  # "online_retail", "online_retail_ii", "simple"; None = detect
    columns: dict[str, str] = Field(default_factory=dict)  # canonical -> source column name


class CleaningConfig(_Strict):
    """Cleaning rules; each one can be switched off. ``mode='minimal'`` keeps only the first three."""

    mode: Literal["default", "minimal"] = "default"
    missing_customer: bool = True
    cancellations_and_returns: bool = True
    nonpositive_price: bool = True
    non_product: bool = True
    exact_duplicates: bool = True
    offsetting_pairs: bool = True
    offsetting_window_days: int = Field(default=30, ge=0)
    non_product_codes: list[str] = Field(default_factory=lambda: list(DEFAULT_NON_PRODUCT_CODES))
    non_product_prefixes: list[str] = Field(
        default_factory=lambda: list(DEFAULT_NON_PRODUCT_PREFIXES)
    )
    cancellation_prefix: str = "C"
    date_from: date | None = None
    date_to: date | None = None
    countries: list[str] | None = None

    def active_rules(self) -> dict[str, bool]:
        """Which rules run, after applying the mode."""
        rules = {
            "missing_customer": self.missing_customer,
            "cancellations_and_returns": self.cancellations_and_returns,
            "nonpositive_price": self.nonpositive_price,
            "non_product": self.non_product,
            "exact_duplicates": self.exact_duplicates,
            "offsetting_pairs": self.offsetting_pairs,
            "date_range": self.date_from is not None or self.date_to is not None,
            "country_filter": bool(self.countries),
        }
        if self.mode == "minimal":
            minimal = {"missing_customer", "cancellations_and_returns", "nonpositive_price"}
            rules = {k: (v and k in minimal) for k, v in rules.items()}
        return rules


class SegmentRule(_Strict):
    """One named RFM segment: a rectangle in the R x FM grid (scores 1-5, inclusive)."""

    name: str
    r: tuple[int, int]
    fm: tuple[int, int]
    description: str
    action: str


DEFAULT_SEGMENTS = [
    SegmentRule(
        name="Champions",
        r=(5, 5),
        fm=(4, 5),
        description="Bought recently, buy often and spend the most.",
        action="Reward them; ask for reviews; offer early access to new products.",
    ),
    SegmentRule(
        name="Loyal Customers",
        r=(3, 4),
        fm=(4, 5),
        description="Spend good money often; responsive to promotions.",
        action="Upsell higher-value products; enrol in a loyalty programme.",
    ),
    SegmentRule(
        name="Potential Loyalists",
        r=(4, 5),
        fm=(2, 3),
        description="Recent customers with average frequency and spend.",
        action="Offer membership or a loyalty programme; recommend related products.",
    ),
    SegmentRule(
        name="New Customers",
        r=(5, 5),
        fm=(1, 1),
        description="Bought very recently, but not often and not much yet.",
        action="Onboard them well; send a welcome series and build the relationship.",
    ),
    SegmentRule(
        name="Promising",
        r=(4, 4),
        fm=(1, 1),
        description="Recent shoppers who have not spent much.",
        action="Create brand awareness; offer free trials or a small incentive.",
    ),
    SegmentRule(
        name="Need Attention",
        r=(3, 3),
        fm=(3, 3),
        description="Above-average recency, frequency and spend, but slowing down.",
        action="Make limited-time offers based on their purchase history.",
    ),
    SegmentRule(
        name="About To Sleep",
        r=(3, 3),
        fm=(1, 2),
        description="Below-average recency, frequency and spend; will be lost without action.",
        action="Share valuable resources; recommend popular products; reconnect.",
    ),
    SegmentRule(
        name="At Risk",
        r=(1, 2),
        fm=(3, 4),
        description="Spent good money often, but long ago.",
        action="Send personalised emails to reconnect; offer renewals and helpful content.",
    ),
    SegmentRule(
        name="Can't Lose Them",
        r=(1, 2),
        fm=(5, 5),
        description="Made the biggest and most frequent purchases, but have not returned for a long time.",
        action="Win them back with renewals or new products; talk to them directly.",
    ),
    SegmentRule(
        name="Hibernating",
        r=(2, 2),
        fm=(1, 2),
        description="Last purchase long ago, low spend and few orders.",
        action="Offer other relevant products and special discounts; recreate brand value.",
    ),
    SegmentRule(
        name="Lost",
        r=(1, 1),
        fm=(1, 2),
        description="Lowest recency, frequency and spend.",
        action="Revive interest with an outreach campaign; otherwise spend little on them.",
    ),
]


class RFMConfig(_Strict):
    """RFM scoring and the segment table (every R x FM cell maps to exactly one segment)."""

    segments: list[SegmentRule] = Field(default_factory=lambda: list(DEFAULT_SEGMENTS))

    @model_validator(mode="after")
    def _check_partition(self) -> RFMConfig:
        cells: dict[tuple[int, int], str] = {}
        for rule in self.segments:
            for lo, hi, axis in ((rule.r[0], rule.r[1], "r"), (rule.fm[0], rule.fm[1], "fm")):
                if not (1 <= lo <= hi <= RFM_BINS):
                    raise ValueError(
                        f"segment {rule.name!r}: {axis} range {lo}..{hi} must lie within 1..{RFM_BINS}"
                    )
            for r in range(rule.r[0], rule.r[1] + 1):
                for fm in range(rule.fm[0], rule.fm[1] + 1):
                    if (r, fm) in cells:
                        raise ValueError(
                            f"R={r}, FM={fm} is claimed by both {cells[(r, fm)]!r} and {rule.name!r}"
                        )
                    cells[(r, fm)] = rule.name
        missing = [
            (r, fm)
            for r in range(1, RFM_BINS + 1)
            for fm in range(1, RFM_BINS + 1)
            if (r, fm) not in cells
        ]
        if missing:
            cells_text = "; ".join(f"R={r}, FM={fm}" for r, fm in missing)
            raise ValueError(f"no segment covers the cells {cells_text}")
        return self

    def segment_of(self, r: int, fm: int) -> SegmentRule:
        for rule in self.segments:
            if rule.r[0] <= r <= rule.r[1] and rule.fm[0] <= fm <= rule.fm[1]:
                return rule
        raise KeyError((r, fm))  # unreachable: the validator guarantees a partition


class AuditConfig(_Strict):
    """Segmentation audit (``custlens audit``): significance, effect and model settings."""

    alpha: float = Field(default=0.05, gt=0, lt=1)  # after Benjamini-Hochberg adjustment
    min_effect: float = Field(default=0.2, gt=0, le=1)  # |rank-biserial| worth acting on
    min_anomalies_for_clusters: int = Field(default=10, ge=3)
    max_clusters: int = Field(default=6, ge=2)
    min_class_for_tree: int = Field(default=10, ge=4)  # per class (anomaly / rest)
    tree_max_depth: int = Field(default=4, ge=1, le=4)
    test_size: float = Field(default=0.3, gt=0, lt=1)
    max_category_levels: int = Field(default=30, ge=2)
    leakage_corr: float = Field(default=0.95, gt=0, le=1)  # |Spearman| with the metric
    auc_strong: float = Field(default=0.7, gt=0.5, le=1)
    auc_weak: float = Field(default=0.6, gt=0.5, le=1)
    top_rules: int = Field(default=5, ge=1)
    max_chart_points: int = Field(default=5000, ge=100)


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
    max_chart_points: int = Field(default=5000, ge=100)

    @model_validator(mode="after")
    def _check(self) -> PersonaConfig:
        if self.k_min > self.k_max:
            raise ValueError(f"k_min ({self.k_min}) must not exceed k_max ({self.k_max})")
        names = [r.name for r in self.rules]
        dupes = sorted({n for n in names if names.count(n) > 1})
        if dupes:
            raise ValueError(f"persona rule names must be unique; repeated: {dupes}")
        return self


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

    horizon_days: int = Field(default=90, ge=7)
    cutoff: date | None = None  # last day of the feature window; None = last purchase - horizon
    min_customers: int = Field(default=50, ge=10)  # per backtest period
    min_class: int = Field(default=10, ge=2)  # churners and non-churners each
    behavioral: bool = True  # add behavioral_features to the customer table
    n_estimators: int = Field(default=300, ge=1)
    learning_rate: float = Field(default=0.03, gt=0, le=1)
    num_leaves: int = Field(default=7, ge=2)
    min_child_samples: int = Field(default=50, ge=1)
    n_jobs: int = Field(default=1, ge=1)  # threads; more is slower on busy small machines
    holdout_share: float = Field(default=0.25, gt=0, lt=0.5)  # calibration / threshold part
    next_purchase_edges: tuple[int, int] = (30, 90)  # classes: <= a, a+1..b, later or never
    discount_rate: float = Field(default=0.1, gt=-1)  # annual, for the scored CLV
    threshold_goal: Literal["profit", "recall_at_precision"] = "profit"
    contact_cost: float = Field(default=1.0, ge=0)  # cost of contacting one customer
    margin: float = Field(default=0.3, gt=0, le=1)  # profit share of revenue
    save_rate: float = Field(default=0.2, gt=0, le=1)  # share of contacted churners kept
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
ANALYSES = ("features", "personas", "anomalies", "timing", "predictions")


class Settings(_Strict):
    """Everything a run needs to know besides the source itself."""

    mapping: MappingConfig = Field(default_factory=MappingConfig)
    cleaning: CleaningConfig = Field(default_factory=CleaningConfig)
    rfm: RFMConfig = Field(default_factory=RFMConfig)
    anomalies: AnomalyConfig = Field(default_factory=AnomalyConfig)
    timing: TimingConfig = Field(default_factory=TimingConfig)
    audit: AuditConfig = Field(default_factory=AuditConfig)
    features: FeaturesConfig = Field(default_factory=FeaturesConfig)
    personas: PersonaConfig = Field(default_factory=PersonaConfig)
    models: ModelsConfig = Field(default_factory=ModelsConfig)
    analyses: list[Literal["features", "personas", "anomalies", "timing", "predictions"]] = Field(
        default_factory=lambda: list(ANALYSES)
    )
    as_of: date | None = None
    seed: int = 42

    def with_overrides(self, **overrides: Any) -> Settings:
        """A copy with dotted-path overrides, e.g. ``{"cleaning.mode": "minimal"}``."""
        data = self.model_dump()
        for dotted, value in overrides.items():
            if value is None:
                continue
            node = data
            *parents, leaf = dotted.split(".")
            for p in parents:
                node = node[p]
            node[leaf] = value
        return _validate(data, "arguments")


def _validate(data: dict[str, Any], origin: str) -> Settings:
    try:
        return Settings.model_validate(data)
    except ValidationError as exc:
        first = exc.errors()[0]
        loc = ".".join(str(p) for p in first["loc"])
        raise ConfigError(
            f"Invalid setting {loc or '(root)'}: {first['msg']}",
            where=origin,
            fix="correct or remove that setting (see docs/configuration.md)",
        ) from None


def load_settings(path: str | Path | None = None, **overrides: Any) -> Settings:
    """Read ``custlens.toml`` (explicit path, else ./custlens.toml if present) and apply overrides."""
    data: dict[str, Any] = {}
    origin = "defaults"
    candidate = Path(path) if path is not None else Path("custlens.toml")
    if path is not None and not candidate.is_file():
        raise ConfigError(
            f"Config file {str(candidate)!r} does not exist",
            where=str(candidate),
            fix="pass the path of an existing TOML file to --config",
        )
    if candidate.is_file():
        origin = str(candidate)
        try:
            data = tomllib.loads(candidate.read_text(encoding="utf-8"))
        except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
            raise ConfigError(
                f"Config file is not valid TOML: {exc}",
                where=origin,
                fix="check the syntax at the reported line",
            ) from None
    settings = _validate(data, origin)
    return settings.with_overrides(**overrides) if overrides else settings
