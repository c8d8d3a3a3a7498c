"""The ``Insight`` record, its severity from the rules in ``InsightsConfig.severity``, and the
``insights.json`` document.

``insights.json`` (schema version 1)::

    {
      "schema": "custlens.insights/1",
      "as_of": "YYYY-MM-DD",
      "insights": [                      # most severe first; of the first `top`, at most
                                         # `top_per_kind` of one kind
        {
          "id": "trend:category:Garden",  # kind:subject, stable between runs
          "kind": "segment_shift | high_value_at_risk | anomaly | trend |
                   cohort_retention | cross_sell",
          "title": "...",                 # a few words
          "finding": "...",               # one sentence with its numbers
          "severity": "high | medium | low",
          "severity_score": 1.7,          # |metric| / the rule's high threshold (ordering)
          "metric": "relative_slope",     # the number the severity rule reads ...
          "metric_value": -0.06,          # ... and its value
          "test": "Mann-Kendall (Hamed-Rao, variance not reduced)",
          "statistic": -3.1,              # the test statistic, or null
          "p_value": 0.002,               # raw p-value, or null (rules without a test)
          "p_adjusted": 0.01,             # Benjamini-Hochberg across the family, or null
          "effect_size": -41.5,           # e.g. Sen's slope, share change, lift
          "effect_name": "Sen's slope (revenue per month)",
          "subject_type": "segment | category | country | period | cohort | customers",
          "subject": "Garden",
          "customers": 120,               # customers affected, or null
          "crm_list": "insights/customers.csv",  # rows with this insight's id, or null
          "action": "...",
          "numbers": {...}                # every number used in the finding
        }
      ],
      "tested": {"trend": 14, ...},       # series / groups tested per kind
      "skipped": {"cross_sell": "reason"} # kinds that could not run, and why
    }
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any

from custlens.config.insights import InsightsConfig

SCHEMA = "custlens.insights/1"
LEVELS = ("high", "medium", "low")
KINDS = (
    "segment_shift",
    "high_value_at_risk",
    "anomaly",
    "trend",
    "cohort_retention",
    "cross_sell",
)


@dataclass(frozen=True)
class Insight:
    """One tested finding (see the module docstring for the fields)."""

    id: str
    kind: str
    title: str
    finding: str
    metric: str
    metric_value: float
    test: str
    action: str
    subject_type: str
    subject: str
    statistic: float | None = None
    p_value: float | None = None
    p_adjusted: float | None = None
    effect_size: float | None = None
    effect_name: str | None = None
    customers: int | None = None
    crm_list: str | None = None
    severity: str = "low"
    severity_score: float = 0.0
    numbers: dict[str, Any] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        return _clean(asdict(self))


def _clean(value: Any) -> Any:
    """JSON-ready: NaN and infinities become null, numpy scalars plain numbers."""
    if isinstance(value, dict):
        return {k: _clean(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_clean(v) for v in value]
    if hasattr(value, "item") and not isinstance(value, str):
        value = value.item()
    if isinstance(value, float) and (value != value or value in (float("inf"), float("-inf"))):
        return None
    return value


def rate(insight: Insight, config: InsightsConfig) -> Insight:
    """The insight with its severity from the rule of its kind (low when there is none, or
    when its metric is NaN)."""
    from dataclasses import replace

    rule = config.rule(insight.kind)
    if rule is None:
        return replace(insight, severity="low", severity_score=0.0)
    size = abs(float(insight.metric_value))
    if size != size:  # no size (a slope relative to a median of 0): low, ordered last
        return replace(insight, severity="low", severity_score=0.0)
    level = "high" if size >= rule.high else "medium" if size >= rule.medium else "low"
    return replace(insight, severity=level, severity_score=round(size / rule.high, 6))


def ranked(insights: list[Insight]) -> list[Insight]:
    """Most severe first: level, then severity score, then id (a stable order)."""
    return sorted(insights, key=lambda i: (LEVELS.index(i.severity), -i.severity_score, i.id))


def headline_first(insights: list[Insight], top: int, per_kind: int) -> list[Insight]:
    """``insights`` (ranked) with the ``top`` listed first chosen so that no kind holds more
    than ``per_kind`` of them while other kinds have insights to show; the top keep their rank
    order, and the others follow in rank order."""
    chosen: list[int] = []
    counts: dict[str, int] = {}
    for i, insight in enumerate(insights):
        if len(chosen) == top:
            break
        if counts.get(insight.kind, 0) < per_kind:
            chosen.append(i)
            counts[insight.kind] = counts.get(insight.kind, 0) + 1
    # fewer kinds than the top needs: fill with the best of those skipped
    picked = set(chosen)
    skipped = [i for i in range(len(insights)) if i not in picked]
    taken = picked | set(skipped[: top - len(chosen)])
    first = [x for i, x in enumerate(insights) if i in taken]
    return first + [x for i, x in enumerate(insights) if i not in taken]


def format_p(p: float | None) -> str:
    """``p = 0.0032``, ``p < 1e-16`` or ``no p-value``."""
    if p is None or p != p:
        return "no p-value"
    cell = p_cell(p)
    return f"p {cell}" if cell.startswith("<") else f"p = {cell}"


def p_cell(p: float | None, missing: str = "") -> str:
    """A p-value in a table cell: ``0.0032``, or ``< 1e-16`` below what a double tells from 0
    (never "0"); ``missing`` when there is none."""
    if p is None or p != p:
        return missing
    return "< 1e-16" if p < 1e-16 else f"{p:.2g}"


def document(
    insights: list[Insight], as_of: str, tested: dict[str, int], skipped: dict[str, str]
) -> dict[str, Any]:
    """The content of ``insights.json``."""
    return {
        "schema": SCHEMA,
        "as_of": as_of,
        "insights": [i.to_dict() for i in insights],
        "tested": dict(tested),
        "skipped": dict(skipped),
    }
