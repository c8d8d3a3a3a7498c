"""Settings of ``custlens profile`` (customer-level tables): ``[profile]`` in ``custlens.toml``.

Every rule is data: the name patterns that give columns their roles, the quality rules that cap
or exclude implausible values, the persona naming rules and the score formulas.
"""

from __future__ import annotations

import re
from datetime import date
from typing import Literal

from pydantic import Field, field_validator, model_validator

from custlens.config.analyses import PersonaRule
from custlens.config.base import _Strict

ROLES = (
    "id",
    "numeric",
    "spend",
    "purchases",
    "flag",
    "categorical",
    "date",
    "birth_year",
    "constant",
    "text",
    "ignored",
)
Role = Literal[
    "id",
    "numeric",
    "spend",
    "purchases",
    "flag",
    "categorical",
    "date",
    "birth_year",
    "constant",
    "text",
    "ignored",
]

# Regular expressions on the normalised column name (lower case, only a-z and 0-9).
DEFAULT_ROLE_PATTERNS: dict[str, list[str]] = {
    "id": [
        r"^(customer|cust|client|kunden?|member|account)(id|no|nr|number|key|ref|reference|code)$",
        r"^id$",
        r"customerid$",
    ],
    # without an id above: the first column named like a key whose values are all present and
    # unique (a CRM's customer_ref, user_key ...), rather than a clustered "number"
    "id_unique": [r"(id|ref|reference|key|nr|nummer)$"],
    "spend": [r"^mnt", r"^spend", r"spend$", r"revenue$", r"^umsatz", r"^amount", r"amount$"],
    "purchases": [r"^num.*purchases$", r"purchases$", r"^purchases", r"orders$", r"kaeufe$"],
    "birth_year": [r"yearbirth", r"birthyear", r"geburtsjahr", r"^yob$", r"yearofbirth"],
    "flag_campaign": [r"^accepted", r"cmp\d", r"campaign", r"^response$", r"kampagne"],
    "complaint": [r"complain", r"beschwerde"],
    "income": [r"income", r"einkommen", r"salary", r"gehalt"],
    "recency": [r"^recency", r"dayssince", r"tageseit"],
    "children": [r"kid", r"teen", r"child", r"kinder"],
    "deals": [r"deal", r"discount", r"rabatt"],
    "since": [r"since", r"dtcustomer", r"join", r"signup", r"registered", r"seit", r"created"],
    "birth_date": [r"birth", r"dob", r"geburt"],
    "marital": [r"marital", r"familienstand"],
}
DEFAULT_PARTNER_LEVELS = ["married", "together", "partner", "verheiratet", "partnerschaft"]


class QualityRule(_Strict):
    """A plausibility rule: values of ``column`` beyond a limit are capped or excluded.

    ``column`` is a feature name or ``role:<role>`` (every column of that role). ``check``:
    ``above``/``below`` compare with ``limit``; ``iqr_above`` uses the fence Q3 + limit x IQR.
    ``exclude`` sets the value missing (it is then ignored by every statistic); ``cap`` replaces
    it by the limit. Every affected row is counted in ``quality.csv``.
    """

    name: str
    column: str
    check: Literal["above", "below", "iqr_above"]
    limit: float
    action: Literal["exclude", "cap"]


DEFAULT_QUALITY_RULES = [
    QualityRule(name="age over 110", column="age", check="above", limit=110, action="exclude"),
    QualityRule(name="age under 14", column="age", check="below", limit=14, action="exclude"),
    QualityRule(name="income outlier", column="income", check="iqr_above", limit=3.0, action="cap"),
    QualityRule(
        name="negative spend", column="role:spend", check="below", limit=0, action="exclude"
    ),
    QualityRule(
        name="negative purchase count",
        column="role:purchases",
        check="below",
        limit=0,
        action="exclude",
    ),
]

DEFAULT_PROFILE_PERSONA_RULES = [
    PersonaRule(
        name="Affluent Wine Lovers",
        when=["income_z > 0.5", "spend_share_wines > 0.5"],
        description="High income; wine is more than half of what they spend.",
    ),
    PersonaRule(
        name="Young Deal Seekers",
        when=["age_z < -0.3", "deal_share_z > 0.5"],
        description="Younger than most; buy on discount far more often.",
    ),
    PersonaRule(
        name="Affluent Big Spenders",
        when=["income_z > 0.5", "total_spend_z > 0.8"],
        description="High income and the highest spend.",
    ),
    PersonaRule(
        name="Budget Families",
        when=["children_z > 0.5", "total_spend_z < 0"],
        description="Children at home and a below-average spend.",
    ),
    PersonaRule(
        name="Web-First Shoppers",
        when=["purchase_share_web_z > 0.8"],
        description="Most purchases on the web.",
    ),
    PersonaRule(
        name="Lapsed Customers",
        when=["recency_days_z > 0.8"],
        description="Have not bought for a long time.",
    ),
]

DEFAULT_PROFILE_PHRASES: dict[str, tuple[str, str]] = {
    "age": ("Young", "Senior"),
    "income": ("Low-Income", "Affluent"),
    "total_spend": ("Low-Spend", "High-Spend"),
    "total_purchases": ("Occasional", "Frequent"),
    "deal_share": ("Full-Price", "Deal-Seeking"),
    "children": ("Child-Free", "Family"),
    "recency_days": ("Recent", "Lapsed"),
    "tenure_days": ("New", "Long-Standing"),
    "campaign_acceptance_rate": ("Campaign-Averse", "Campaign-Responsive"),
    "household_size": ("Single-Person", "Large-Household"),
    "spend_per_purchase": ("Small-Basket", "Big-Basket"),
}


class ScoreComponent(_Strict):
    """One input of a score: a feature and whether higher values raise the score."""

    feature: str
    higher_is: Literal["higher", "lower"] = "higher"


class ScoreSpec(_Strict):
    """A 0-100 score: the mean of the percentile ranks of its available components."""

    name: str
    description: str
    components: list[ScoreComponent] = Field(min_length=1)


DEFAULT_SCORES = [
    ScoreSpec(
        name="loyalty_score",
        description="Long, frequent, high-value and recent relationships score high.",
        components=[
            ScoreComponent(feature="tenure_days"),
            ScoreComponent(feature="total_purchases"),
            ScoreComponent(feature="total_spend"),
            ScoreComponent(feature="recency_days", higher_is="lower"),
        ],
    ),
    ScoreSpec(
        name="churn_risk",
        description="Long since the last purchase, few purchases, a complaint: high risk.",
        components=[
            ScoreComponent(feature="recency_days"),
            ScoreComponent(feature="total_purchases", higher_is="lower"),
            ScoreComponent(feature="complained"),
        ],
    ),
    ScoreSpec(
        name="discount_sensitivity",
        description="Share of purchases made with a discount, as a percentile.",
        components=[ScoreComponent(feature="deal_share")],
    ),
]


class ProfileConfig(_Strict):
    """Everything ``custlens profile`` decides by rule, with defaults."""

    roles: dict[str, str] = Field(default_factory=dict)  # column -> role (overrides inference)
    role_patterns: dict[str, list[str]] = Field(
        default_factory=lambda: {k: list(v) for k, v in DEFAULT_ROLE_PATTERNS.items()}
    )
    partner_levels: list[str] = Field(default_factory=lambda: list(DEFAULT_PARTNER_LEVELS))
    as_of: date | None = None  # age and tenure as of this date (default: today)
    min_rows: int = Field(default=10, ge=10)
    max_categories: int = Field(default=30, ge=2)  # more distinct strings: free text
    rare_level_share: float = Field(default=0.01, ge=0, lt=0.5)  # rarer levels become "Other"
    parse_share: float = Field(default=0.95, gt=0.5, le=1)  # share of values that must parse
    quality_rules: list[QualityRule] = Field(default_factory=lambda: list(DEFAULT_QUALITY_RULES))
    features: list[str] | None = None  # segmentation features; None = chosen automatically
    categorical_features: list[str] | None = None  # None = every categorical column
    k_min: int = Field(default=2, ge=2)
    k_max: int = Field(default=10, ge=2)
    outlier_z: float = Field(default=5.0, gt=0)
    max_outlier_share: float = Field(default=0.05, gt=0, lt=0.5)
    fit_sample: int = Field(default=30_000, ge=1_000)  # k and centres from a seeded sample
    silhouette_sample: int = Field(default=5_000, ge=100)
    stability_seeds: int = Field(default=5, ge=2)
    persona_rules: list[PersonaRule] = Field(
        default_factory=lambda: list(DEFAULT_PROFILE_PERSONA_RULES)
    )
    feature_phrases: dict[str, tuple[str, str]] = Field(
        default_factory=lambda: dict(DEFAULT_PROFILE_PHRASES)
    )
    alpha: float = Field(default=0.05, gt=0, lt=1)  # Benjamini-Hochberg false discovery rate
    confidence: float = Field(default=0.95, gt=0.5, lt=1)  # Wilson intervals
    high_value_quantile: float = Field(default=0.8, gt=0.5, lt=1)  # top 20 % by total spend
    tree_max_depth: int = Field(default=3, ge=1, le=4)
    scores: list[ScoreSpec] = Field(default_factory=lambda: list(DEFAULT_SCORES))

    @field_validator("roles")
    @classmethod
    def _known_roles(cls, value: dict[str, str]) -> dict[str, str]:
        for column, role in value.items():
            if role not in ROLES:
                raise ValueError(
                    f"role {role!r} of column {column!r} is not one of {', '.join(ROLES)}"
                )
        return value

    @field_validator("role_patterns")
    @classmethod
    def _valid_patterns(cls, value: dict[str, list[str]]) -> dict[str, list[str]]:
        for key, patterns in value.items():
            for p in patterns:
                try:
                    re.compile(p)
                except re.error as exc:
                    raise ValueError(f"role pattern {p!r} of {key!r}: {exc}") from None
        return value

    @model_validator(mode="after")
    def _check_k(self) -> ProfileConfig:
        if self.k_min > self.k_max:
            raise ValueError(f"k_min ({self.k_min}) must not exceed k_max ({self.k_max})")
        return self
