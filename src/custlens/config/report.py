"""The report's business rules as data: findings rules, thresholds and phrases (``[report]``).

A finding rule turns one kind of fact (a mapping of numbers about a segment, a cleaning rule, the
anomalies...) into a sentence when its condition holds. ``when`` and ``importance`` are small
arithmetic expressions over the fact's names (``+ - * /``, comparisons, ``and or not``, numbers
and quoted strings); ``text`` and ``action`` are ``str.format`` templates over the same names
(e.g. ``{share:.0%}``). The facts each section offers are listed in docs/report.md.
"""

from __future__ import annotations

import ast
import string

from pydantic import Field, field_validator, model_validator

from custlens.config.base import _Strict

_ALLOWED = (
    ast.Expression,
    ast.BoolOp,
    ast.And,
    ast.Or,
    ast.UnaryOp,
    ast.Not,
    ast.USub,
    ast.BinOp,
    ast.Add,
    ast.Sub,
    ast.Mult,
    ast.Div,
    ast.Compare,
    ast.Gt,
    ast.GtE,
    ast.Lt,
    ast.LtE,
    ast.Eq,
    ast.NotEq,
    ast.Name,
    ast.Load,
    ast.Constant,
)


def check_expression(text: str) -> str:
    """Return ``text`` when it is a rule expression (see the module doc); ValueError otherwise."""
    try:
        tree = ast.parse(text, mode="eval")
    except SyntaxError:
        raise ValueError(f"expression {text!r} is not valid (e.g. 'revenue_share > 0.3')") from None
    for node in ast.walk(tree):
        if not isinstance(node, _ALLOWED):
            raise ValueError(
                f"expression {text!r} uses {type(node).__name__}; only names, numbers, quoted "
                "strings, + - * /, comparisons and and/or/not are allowed"
            )
        if isinstance(node, ast.Constant) and not isinstance(node.value, int | float | str):
            raise ValueError(f"expression {text!r}: {node.value!r} is not a number or string")
    return text


def _check_template(text: str) -> str:
    try:
        fields = [f for _, f, _, _ in string.Formatter().parse(text) if f is not None]
    except ValueError as exc:
        raise ValueError(f"template {text!r} is malformed: {exc}") from None
    bad = [f for f in fields if not f.isidentifier()]
    if bad:
        raise ValueError(f"template {text!r}: fields must be plain names, got {bad}")
    return text


class FindingRule(_Strict):
    """A sentence about one kind of fact, written when ``when`` holds (see the module doc)."""

    id: str = ""
    about: str = Field(min_length=1)  # the kind of fact: segment, overview, cleaning, ...
    when: str = "True"
    text: str = Field(min_length=1)
    action: str = ""  # what to do, for "what to do this month" (empty: none)
    importance: str = "0"  # an expression; the most important findings lead the report
    weight: float = 1.0
    limit: int = Field(default=1, ge=1)  # at most this many findings from this rule

    @field_validator("when", "importance")
    @classmethod
    def _expression(cls, value: str) -> str:
        return check_expression(value)

    @field_validator("text", "action")
    @classmethod
    def _template(cls, value: str) -> str:
        return _check_template(value)

    @model_validator(mode="after")
    def _default_id(self) -> FindingRule:
        if not self.id:
            object.__setattr__(self, "id", f"{self.about}: {self.text[:40]}")
        return self


DEFAULT_FINDINGS = [
    FindingRule(
        id="segment_concentration",
        about="segment",
        when="revenue_share >= 1.5 * share and share >= 0.02",
        text="{segment} are {share:.0%} of customers and bring {revenue_share:.0%} of revenue.",
        action="{segment} ({customers:,} customers): {action_text}",
        importance="revenue_share - share",
        limit=2,
    ),
    FindingRule(
        id="segment_slipping",
        about="segment",
        when="recency_ratio >= 1.5 and revenue_share >= 0.05",
        text="{segment} ({customers:,} customers) brought {revenue_share:.0%} of revenue but "
        "last ordered {avg_recency:.0f} days ago on average, {recency_ratio:.1f} times the "
        "average of all customers ({all_avg_recency:.0f} days).",
        action="{segment} ({customers:,} customers): {action_text}",
        importance="revenue_share",
        limit=2,
    ),
    FindingRule(
        id="top_decile",
        about="overview",
        when="top_decile_revenue_share >= 0.35",
        text="The top 10% of customers bring {top_decile_revenue_share:.0%} of revenue.",
        importance="(top_decile_revenue_share - 0.1) / 2",
    ),
    FindingRule(
        id="one_timers",
        about="overview",
        when="one_order_share >= 0.25",
        text="{one_order_share:.0%} of customers ({one_order_customers:,}) ordered only once.",
        # no action when no one-time buyer is recent (the fact is then absent)
        action="Send the {recent_one_order_customers:,} customers whose only order was in the "
        "last {recent_days} days a second-order offer (customers.csv: frequency 1, "
        "recency_days up to {recent_days}).",
        importance="one_order_share / 3",
    ),
    FindingRule(
        id="cleaning_removed",
        about="cleaning",
        when="row_share >= 0.05 or revenue_share >= 0.02",
        text="Cleaning removed {rows:,} lines ({row_share:.1%} of the input, "
        "{revenue_share:.1%} of gross revenue): {description}.",
        importance="row_share / 4",
        limit=3,
    ),
    FindingRule(
        id="anomalous_customers",
        about="anomalies",
        when="flagged > 0",
        text="{flagged:,} customers look anomalous; {top_reason_quantifier} of them {top_reason}.",
        action="Review the {flagged:,} anomalous customers before the next campaign "
        "(they bring {flagged_revenue_share:.0%} of revenue).",
        importance="0.05 + flagged_revenue_share / 2",
    ),
    FindingRule(
        id="extreme_orders",
        about="anomalies",
        when="extreme_orders > 0",
        text="{extreme_orders:,} orders are extreme for their value and "
        "{cancellation_pairs:,} purchase lines were cancelled afterwards.",
        importance="0.02",
    ),
    FindingRule(
        id="valuable_persona",
        about="persona",
        when="revenue_share >= 1.5 * share and share >= 0.03",
        text="The {persona} persona ({share:.0%} of customers) brings {revenue_share:.0%} of "
        "revenue.",
        importance="(revenue_share - share) / 2",
    ),
    FindingRule(
        id="peak_window",
        about="timing",
        when="best_window_share > 0",
        text="Orders peak on {best_window} ({best_window_share:.1%} of orders); "
        "{business_hours_share:.0%} of orders are placed on weekdays between 9:00 and 17:00.",
        action="Time this month's emails and calls for {best_window}.",
        importance="0.04",
    ),
    FindingRule(
        id="peak_quarter",
        about="timing",
        when="peak_quarter_share >= 0.3",
        text="Q{peak_quarter} brings {peak_quarter_share:.0%} of a year's revenue (each "
        "quarter's revenue per day of data in it).",
        importance="peak_quarter_share - 0.25",
    ),
    FindingRule(
        id="churn_model",
        about="predictions",
        when="churn_auc >= baseline_auc + 0.005",
        text="On a future period it never saw, the churn scorer ({churn_model}) ranks "
        "customers better than every other scorer (ROC AUC {churn_auc:.3f} against "
        "{baseline_auc:.3f} for {best_baseline}).",
        importance="0.03",
    ),
    FindingRule(
        id="churn_baseline_wins",
        about="predictions",
        when="churn_auc < baseline_auc + 0.005",
        text="On a future period the churn scorer ({churn_model}) ranks customers about as "
        "well as the next best, {best_baseline} (ROC AUC {churn_auc:.3f} against "
        "{baseline_auc:.3f}).",
        importance="0.03",
    ),
    FindingRule(
        id="high_value_at_risk",
        about="predictions",
        when="at_risk > 0",
        # says its rule: the insights section's high-CLV list follows another rule
        text="{at_risk:,} of the top {high_value_share:.0%} of customers by spend are likely "
        "to churn (churn probability {at_risk_probability:.0%} or more); together they brought "
        "{at_risk_revenue_share:.0%} of revenue.",
        action="Call or email the {at_risk:,} top spenders likely to churn (list in the "
        "predictions section).",
        importance="0.1 + at_risk_revenue_share",
    ),
]

DEFAULT_REASON_PHRASES = {  # anomaly reason feature -> (when low, when high)
    "cancelled_units_share": ("cancel little", "cancel much of what they order"),
    "returned_items_share": ("return little", "return an unusually large share of what they buy"),
    "return_rate": ("return little", "return an unusually large share of what they buy"),
    "monetary": ("spend unusually little", "spend far more than most"),
    "max_line_units": ("buy unusually few units", "order huge quantities of one item"),
    "max_order_value": ("place only small orders", "place very large orders"),
    "avg_order_value": ("place unusually small orders", "place unusually large orders"),
    "frequency": ("order rarely", "order far more often than most"),
    "recency_days": ("bought very recently", "have not ordered for a long time"),
    "max_unit_price": ("buy only cheap items", "buy unusually expensive items"),
    "max_items_per_order": ("buy few items per order", "put unusually many items in an order"),
    "orders_per_active_month": ("order rarely", "order many times a month"),
}


class ReportConfig(_Strict):
    """The report (``custlens.report``): findings rules, limits and definitions."""

    title: str = "Customer report"
    top_findings: int = Field(default=5, ge=1)
    top_actions: int = Field(default=5, ge=0)
    max_table_rows: int = Field(default=50, ge=5)  # rows shown per table (full CSV beside it)
    at_risk_probability: float = Field(default=0.5, gt=0, lt=1)  # churn probability at risk
    high_value_quantile: float = Field(default=0.8, ge=0, lt=1)  # of monetary: "high value"
    recent_days: int = Field(default=90, ge=1)  # a one-time buyer of these last days is "recent"
    radar_features: int = Field(default=6, ge=3)
    reason_phrases: dict[str, tuple[str, str]] = Field(
        default_factory=lambda: dict(DEFAULT_REASON_PHRASES)
    )
    findings: list[FindingRule] = Field(default_factory=lambda: list(DEFAULT_FINDINGS))

    @model_validator(mode="after")
    def _unique(self) -> ReportConfig:
        ids = [r.id for r in self.findings]
        dupes = sorted({i for i in ids if ids.count(i) > 1})
        if dupes:
            raise ValueError(f"finding rule ids must be unique; repeated: {dupes}")
        return self
