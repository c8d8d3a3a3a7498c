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
            raise ValueError(f"no segment covers the R, FM cells {missing}")
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


class AnomalyConfig(_Strict):
    """Customer- and order-level anomaly rules (``custlens.anomalies``)."""

    # customer level: IsolationForest on a one-row-per-customer feature table
    features: list[str] | None = None  # None = every numeric column except the id
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


class Settings(_Strict):
    """Everything a run needs to know besides the source itself."""

    mapping: MappingConfig = Field(default_factory=MappingConfig)
    cleaning: CleaningConfig = Field(default_factory=CleaningConfig)
    rfm: RFMConfig = Field(default_factory=RFMConfig)
    anomalies: AnomalyConfig = Field(default_factory=AnomalyConfig)
    timing: TimingConfig = Field(default_factory=TimingConfig)
    audit: AuditConfig = Field(default_factory=AuditConfig)
    features: FeaturesConfig = Field(default_factory=FeaturesConfig)
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
