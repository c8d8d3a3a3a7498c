"""The data-quality report produced by :func:`custlens.io.clean.clean`.

Definitions used throughout (they are also shown in ``to_dict()["definitions"]``):

- **rows**: transaction lines. Each removed line is counted once, by the *first* enabled rule
  (in the documented order) that removes it.
- **revenue**: the sum of the *positive* line amounts (gross sales value). A rule's revenue is
  the positive amount of the lines it removed; cancellation and return lines have negative
  amounts, so they contribute nothing. ``revenue_in - sum(rule revenues) == revenue_out``.
- **customers** (per rule): customers who still had at least one line before the rule and had
  none left after it, so the per-rule counts add up to ``customers_in - customers_out``.
  Lines without a customer id belong to no customer.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass

DEFINITIONS = {
    "rows": "lines removed, each counted once by the first enabled rule that removes it",
    "revenue": "sum of the positive line amounts (gross sales value) of those lines",
    "customers": "customers who had lines before the rule and none after it",
}


@dataclass(frozen=True)
class RuleResult:
    """What one cleaning rule did."""

    rule: str
    description: str
    enabled: bool
    rows: int
    revenue: float
    customers: int
    note: str = ""


@dataclass(frozen=True)
class QualityReport:
    """Counts before cleaning, per rule, and after cleaning."""

    rows_in: int
    revenue_in: float
    customers_in: int
    rules: tuple[RuleResult, ...]
    rows_out: int
    orders_out: int
    customers_out: int
    revenue_out: float
    returns_rows: int

    def rule(self, name: str) -> RuleResult:
        """The entry of one rule, by its name (e.g. ``"missing_customer"``)."""
        for entry in self.rules:
            if entry.rule == name:
                return entry
        known = ", ".join(e.rule for e in self.rules)
        raise KeyError(f"no cleaning rule named {name!r}; known rules: {known}")

    def to_dict(self) -> dict:
        """A JSON-ready dictionary (plain ints, floats, strings, lists)."""
        return {
            "rows_in": int(self.rows_in),
            "revenue_in": float(self.revenue_in),
            "customers_in": int(self.customers_in),
            "rules": [asdict(r) for r in self.rules],
            "rows_out": int(self.rows_out),
            "orders_out": int(self.orders_out),
            "customers_out": int(self.customers_out),
            "revenue_out": float(self.revenue_out),
            "returns_rows": int(self.returns_rows),
            "definitions": dict(DEFINITIONS),
        }

    @classmethod
    def from_dict(cls, data: dict) -> QualityReport:
        """The report back from :meth:`to_dict`'s output (e.g. a results folder's quality.json)."""
        fields = {k: v for k, v in data.items() if k not in ("rules", "definitions")}
        rules = tuple(RuleResult(**rule) for rule in data["rules"])
        return cls(rules=rules, **fields)

    def summary_lines(self) -> list[str]:
        """Readable lines for a terminal: input, one line per rule, output."""
        lines = [
            f"Input: {self.rows_in:,} lines, {self.customers_in:,} customers, "
            f"revenue {self.revenue_in:,.2f}",
        ]
        for r in self.rules:
            if not r.enabled:
                lines.append(f"  - {r.rule}: off" + (f" ({r.note})" if r.note else ""))
                continue
            share = r.rows / self.rows_in if self.rows_in else 0.0
            line = (
                f"  - {r.rule}: removed {r.rows:,} lines ({share:.1%}), "
                f"{r.customers:,} customers, revenue {r.revenue:,.2f}"
            )
            if r.note:
                line += f" [{r.note}]"
            lines.append(line)
        lines.append(
            f"Output: {self.rows_out:,} purchase lines, {self.orders_out:,} orders, "
            f"{self.customers_out:,} customers, revenue {self.revenue_out:,.2f}; "
            f"{self.returns_rows:,} return lines kept for return rates"
        )
        return lines
