"""Settings of segment migration and cohorts (``[migration]``) and the insight engine
(``[insights]``): every threshold and severity rule is data with a documented default."""

from __future__ import annotations

from datetime import date
from typing import Literal

from pydantic import Field, model_validator

from custlens.config.base import _Strict


class MigrationConfig(_Strict):
    """Segments at two as-of dates, their transition matrix and the acquisition cohorts.

    ``cut_points``: ``"recut"`` (default) scores each date against its own quintiles, so the
    later segments are exactly the run's segments. Frequency and monetary value are cumulative
    (all history before the date): at the earlier date every customer has had less time to buy,
    so the later date's cut points would score most customers lower then and show an upward
    migration that is only the passage of time. ``"fixed"`` applies the as-of date's cut points
    (the largest value of each quintile; a tied value goes to the lowest quintile that holds it)
    to both dates, for absolute thresholds.
    """

    compare_to: date | None = None  # default: as_of - days_before
    days_before: int = Field(default=90, ge=1)
    cut_points: Literal["recut", "fixed"] = "recut"
    # a customer whose last order is more than this many days before a date is "lost" at that
    # date (shown in the lost margin instead of a segment); None: nobody is lost
    lost_after_days: int | None = Field(default=365, ge=1)
    # the CRM list: customers who left one of these segments for a lower r + fm score
    watch_segments: list[str] = Field(default_factory=lambda: ["Champions", "Loyal Customers"])
    cohort_max_months: int = Field(default=24, ge=1)  # months since first order shown


class SeverityRule(_Strict):
    """How severe an insight of ``kind`` is, from its ``metric`` (the absolute value is used):
    ``high`` at or above ``high``, ``medium`` at or above ``medium``, else ``low``."""

    kind: str
    metric: str
    high: float = Field(gt=0)
    medium: float = Field(gt=0)

    @model_validator(mode="after")
    def _order(self) -> SeverityRule:
        if self.medium > self.high:
            raise ValueError(f"{self.kind}: medium {self.medium} must not exceed high {self.high}")
        return self


DEFAULT_SEVERITY = [
    # percentage points of the continuing customers that the segment gained or lost
    SeverityRule(kind="segment_shift", metric="share_change", high=0.05, medium=0.02),
    # the at-risk customers' share of the total value (CLV, or monetary without predictions)
    SeverityRule(kind="high_value_at_risk", metric="value_share", high=0.05, medium=0.01),
    # robust z-score of the period
    SeverityRule(kind="anomaly", metric="robust_z", high=8.0, medium=5.0),
    # Sen's slope per period over the series' median level
    SeverityRule(kind="trend", metric="relative_slope", high=0.05, medium=0.02),
    # fall in retention, in percentage points
    SeverityRule(kind="cohort_retention", metric="retention_drop", high=0.10, medium=0.05),
    SeverityRule(kind="cross_sell", metric="lift", high=3.0, medium=1.5),
]


DEFAULT_ACTIONS = {
    "segment_shift.shrink": "Find out why customers left {subject} (the CRM list) and win them "
    "back before they lapse further.",
    "segment_shift.grow": "Check what drives the growth of {subject} and plan its segment "
    "action for more customers.",
    "segment_shift.up": "The customers who left {subject} moved to better segments: check what "
    "brought them there.",
    "segment_shift.back": "Welcome back the customers who bought again after a long break (the "
    "CRM list); ask what brought them back and keep them buying.",
    "segment_shift.lost": "Send a win-back offer to the customers who lapsed (the CRM list); ask "
    "the largest why they stopped.",
    "high_value_at_risk": "Call or personally contact these customers this week; offer a "
    "reason to come back before they are lost.",
    "anomaly.high": "Check {subject} for a promotion, a bulk buyer or a data error before "
    "reading it as demand.",
    "anomaly.low": "Check {subject} for an outage, a stock problem or missing data.",
    "trend.down": "Review assortment, price and stock of {subject}; ask its customers why they "
    "buy less.",
    "trend.up": "Secure stock for {subject} and give it room in campaigns.",
    "segment_trend.down": "Fewer customers reach {subject} each month: review what used to bring "
    "them there and the segment's action.",
    "segment_trend.up": "More customers are {subject} each month: check the segment's action "
    "scales (budget, stock, staff).",
    "cohort_retention": "Review what the {subject} cohort experienced (first-order offer, "
    "delivery, product) and send it a second-order incentive.",
    "cross_sell": "Offer {consequent} to {subject} customers who buy {antecedent}.",
}


class InsightsConfig(_Strict):
    """The insight engine: tests, their thresholds and the severity rules."""

    alpha: float = Field(default=0.05, gt=0, lt=1)  # after Benjamini-Hochberg where many tests
    # segments of recent buyers with one small order (high R, lowest FM): a customer present at
    # both migration dates leaves them by ageing or by buying again, so their shrinking among
    # those customers is expected, not a finding (Online Retail: "New Customers went from 37
    # to 0"); their growth is still reported
    ageing_segments: list[str] = Field(default_factory=lambda: ["New Customers", "Promising"])
    # high-value customers at risk
    value_quantile: float = Field(default=0.75, gt=0, lt=1)  # top CLV quartile
    churn_threshold: float = Field(default=0.5, gt=0, lt=1)
    overdue_factor: float = Field(default=1.5, gt=1)  # days since last order / own cadence
    # anomalies: robust z = 0.6745 (x - median) / MAD over the baseline periods
    # Iglewicz and Hoaglin's 3.5 is for one value; a series scans about a hundred weeks, and 3.5
    # flagged a period in 7.5% of stationary simulated series (4.0: 1.7%)
    anomaly_z: float = Field(default=4.0, gt=0)
    anomaly_window: int = Field(default=26, ge=4)  # weeks on each side in a week's baseline
    same_month_min_years: int = Field(default=3, ge=2)  # else the neighbouring months
    # trends (Mann-Kendall with Sen's slope)
    trend_min_periods: int = Field(default=12, ge=6)  # complete months in a series
    seasonal_min_years: int = Field(default=3, ge=2)  # seasonal test from this many years
    max_series: int = Field(default=12, ge=1)  # largest categories / countries tested
    min_orders_per_month: float = Field(default=5.0, ge=0)  # median orders in a tested series
    # cohorts: the retention month compared, and how many earlier cohorts form the baseline
    cohort_month: int = Field(default=1, ge=1)
    cohort_baseline: int = Field(default=6, ge=1)
    cohort_min_customers: int = Field(default=20, ge=1)
    top: int = Field(default=5, ge=1)  # insights printed by the CLI and listed first
    # at most this many of one kind among the ``top`` while other kinds have findings: on the
    # demo data eight cohort drops filled the whole list and hid the customers at risk
    top_per_kind: int = Field(default=2, ge=1)
    max_listed: int = Field(default=500, ge=1)  # customers kept in a CRM list per insight
    severity: list[SeverityRule] = Field(default_factory=lambda: list(DEFAULT_SEVERITY))
    # recommended action per kind (and direction), with {subject} and kind-specific fields
    actions: dict[str, str] = Field(default_factory=lambda: dict(DEFAULT_ACTIONS))
    segment_trend_months: int = Field(default=12, ge=0)  # monthly dates of segment sizes; 0 off
    # a segment-size date counts only this long after the first purchase: before, every
    # customer's history is cut short by the data's start (few orders, all "new"), so segment
    # shares drift from that alone
    segment_trend_min_history_days: int = Field(default=365, ge=0)

    def rule(self, kind: str) -> SeverityRule | None:
        return next((r for r in self.severity if r.kind == kind), None)
