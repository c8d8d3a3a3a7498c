"""A report as data: sections of KPI cards, findings, paragraphs, tables and chart specs.

The structure step (``custlens.report.structure``) and every stage's ``StageResult.section``
build these nodes from ``Results``; the HTML and Markdown renderers walk them. Nothing here holds
HTML or Markdown: every string is plain text that a renderer escapes. Findings are sentences
generated from numbers ("facts") by rules that are data (``custlens.config.FindingRule``).

>>> rule = FindingRule(
...     about="segment",
...     when="revenue_share >= 2 * share",
...     text="{segment} are {share:.0%} of customers and bring {revenue_share:.0%} of revenue.",
...     importance="revenue_share - share",
... )
>>> facts = [{"segment": "Champions", "share": 0.15, "revenue_share": 0.51}]
>>> [f.text for f in findings({"segment": facts}, [rule])]
['Champions are 15% of customers and bring 51% of revenue.']
"""

from __future__ import annotations

import ast
import math
import string
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Literal

from custlens.config.report import FindingRule, check_expression

if TYPE_CHECKING:
    import pandas as pd

Facts = Mapping[str, Sequence[Mapping[str, Any]]]  # kind -> one mapping of numbers per subject


@dataclass(frozen=True)
class KPI:
    """One headline number: a label, its formatted value and an optional detail line."""

    label: str
    value: str
    detail: str = ""


@dataclass(frozen=True)
class Cards:
    """A row of KPI cards."""

    items: tuple[KPI, ...]


@dataclass(frozen=True)
class Finding:
    """A sentence generated from numbers by a rule, with its importance and optional action."""

    text: str
    importance: float = 0.0
    rule: str = ""
    action: str = ""


@dataclass(frozen=True)
class Findings:
    """A list of findings, shown as bullet points."""

    items: tuple[Finding, ...]
    title: str = ""


@dataclass(frozen=True)
class Paragraph:
    """Plain text (a sentence or a few)."""

    text: str


@dataclass(frozen=True)
class Bullets:
    """A bulleted list of plain-text items (e.g. rules in words, actions)."""

    items: tuple[str, ...]
    title: str = ""


@dataclass(frozen=True)
class Table:
    """A table to show (sortable, filterable, downloadable as CSV in HTML).

    ``frame`` holds the rows shown; ``total_rows`` how many the full table has and ``source``
    where the full table is (a path relative to the report), when only the first rows are shown.
    """

    name: str
    title: str
    frame: pd.DataFrame
    caption: str = ""
    total_rows: int | None = None
    source: str = ""
    percent: tuple[str, ...] = ()  # columns holding shares (0..1), shown as percentages


@dataclass(frozen=True)
class Chart:
    """A chart: its name (figure file stem), title and Vega-Lite spec (a JSON-ready dict)."""

    name: str
    title: str
    spec: Mapping[str, Any]
    caption: str = ""


@dataclass(frozen=True)
class Link:
    """A link to a file beside the report (e.g. a CRM list), by relative path."""

    label: str
    href: str
    detail: str = ""


@dataclass(frozen=True)
class Links:
    """A list of links."""

    items: tuple[Link, ...]
    title: str = ""


Block = Cards | Findings | Paragraph | Bullets | Table | Chart | Links
Status = Literal["ok", "skipped", "not selected"]


@dataclass(frozen=True)
class Section:
    """One section of the report: a title, a one-line lead, findings and blocks.

    ``status`` is ``"ok"`` when the section has content; otherwise ``lead`` says why in one line
    (the stage was skipped on these data, or not selected).
    """

    id: str
    title: str
    lead: str = ""
    findings: tuple[Finding, ...] = ()
    blocks: tuple[Block, ...] = ()
    status: Status = "ok"
    subsections: tuple[Section, ...] = ()

    def charts(self) -> list[Chart]:
        """Every chart in this section and its subsections, in order."""
        out = [b for b in self.blocks if isinstance(b, Chart)]
        for sub in self.subsections:
            out += sub.charts()
        return out

    def all_findings(self) -> list[Finding]:
        out = list(self.findings)
        for sub in self.subsections:
            out += sub.all_findings()
        return out


@dataclass(frozen=True)
class Story:
    """The whole report: a title, a subtitle (source, as-of date) and its sections in order."""

    title: str
    subtitle: str
    sections: tuple[Section, ...]
    meta: Mapping[str, str] = field(default_factory=dict)

    def charts(self) -> list[Chart]:
        return [c for s in self.sections for c in s.charts()]


def not_run(section_id: str, title: str, reason: str, status: Status = "skipped") -> Section:
    """The section of a stage that did not run: its title and one line saying why."""
    return Section(id=section_id, title=title, lead=reason, status=status)


# ---------------------------------------------------------------- findings from rules (data)


def findings(facts: Facts, rules: Iterable[FindingRule]) -> tuple[Finding, ...]:
    """Apply every rule to the facts of its kind; up to ``rule.limit`` findings per rule.

    A rule whose condition names a number the facts lack, or divides by zero, does not match.
    Findings of one rule are ranked by their importance (highest first).
    """
    out: list[Finding] = []
    for rule in rules:
        matched: list[Finding] = []
        for fact in facts.get(rule.about, ()):
            if _truthy(evaluate(rule.when, fact)):
                importance = evaluate(rule.importance, fact)
                if not isinstance(importance, int | float) or math.isnan(importance):
                    continue
                text = fill(rule.text, fact)
                if text is None:
                    continue
                action = fill(rule.action, fact) if rule.action else ""
                weight = float(importance) * rule.weight
                matched.append(Finding(text, weight, rule.id, action or ""))
        matched.sort(key=lambda f: -f.importance)
        out += matched[: rule.limit]
    return tuple(out)


class _NoAttributes(string.Formatter):
    """``str.format`` on named facts only: no attribute or index access in a template."""

    def get_field(self, field_name: str, args: Any, kwargs: Any) -> Any:
        if not field_name.isidentifier():
            raise KeyError(field_name)
        return kwargs[field_name], field_name


_FORMATTER = _NoAttributes()


def fill(template: str, fact: Mapping[str, Any]) -> str | None:
    """The template filled with the fact's values; None when a value is missing or unformattable."""
    try:
        return _FORMATTER.vformat(template, (), dict(fact))
    except (KeyError, ValueError, TypeError, IndexError):
        return None


_MISSING = object()


def evaluate(expression: str, fact: Mapping[str, Any]) -> Any:
    """Evaluate a rule expression (checked by ``check_expression``) on one fact's numbers.

    Returns None when a name is missing, a value is None/NaN or a division is by zero.
    """
    try:
        value = _eval(ast.parse(check_expression(expression), mode="eval").body, fact)
    except (ZeroDivisionError, TypeError, _Missing):
        return None
    return None if value is _MISSING else value


class _Missing(Exception):
    pass


def _eval(node: ast.AST, fact: Mapping[str, Any]) -> Any:
    if isinstance(node, ast.Constant):
        return node.value
    if isinstance(node, ast.Name):
        value = fact.get(node.id, _MISSING)
        if value is _MISSING or value is None or (isinstance(value, float) and math.isnan(value)):
            raise _Missing(node.id)
        return value
    if isinstance(node, ast.BoolOp):
        values = [_eval(v, fact) for v in node.values]
        return all(values) if isinstance(node.op, ast.And) else any(values)
    if isinstance(node, ast.UnaryOp):
        operand = _eval(node.operand, fact)
        return (not operand) if isinstance(node.op, ast.Not) else -operand
    if isinstance(node, ast.BinOp):
        left, right = _eval(node.left, fact), _eval(node.right, fact)
        ops = {ast.Add: lambda: left + right, ast.Sub: lambda: left - right}
        ops |= {ast.Mult: lambda: left * right, ast.Div: lambda: left / right}
        return ops[type(node.op)]()
    if isinstance(node, ast.Compare):
        left = _eval(node.left, fact)
        for op, comparator in zip(node.ops, node.comparators, strict=True):
            right = _eval(comparator, fact)
            ok = {
                ast.Gt: lambda a, b: a > b,
                ast.GtE: lambda a, b: a >= b,
                ast.Lt: lambda a, b: a < b,
                ast.LtE: lambda a, b: a <= b,
                ast.Eq: lambda a, b: a == b,
                ast.NotEq: lambda a, b: a != b,
            }[type(op)](left, right)
            if not ok:
                return False
            left = right
        return True
    raise TypeError(type(node).__name__)  # unreachable after check_expression


def _truthy(value: Any) -> bool:
    return bool(value) if value is not None else False


def top_findings(sections: Iterable[Section], n: int) -> list[Finding]:
    """The ``n`` most important findings of all sections (ties keep section order)."""
    every = [f for s in sections for f in s.all_findings()]
    return sorted(every, key=lambda f: -f.importance)[:n]


# ---------------------------------------------------------------- building nodes


def chart_nodes(
    charts: Mapping[str, Any], captions: Mapping[str, str] | None = None
) -> list[Chart]:
    """Chart nodes from Altair charts by name (their Vega-Lite specs; titles read from them)."""
    captions = captions or {}
    out = []
    for name, chart in charts.items():
        # every figure's spec is schema-checked in tests/report/test_figures.py; skipping the schema
        # check here saves about a second per report
        spec = chart.to_dict(validate=False) if hasattr(chart, "to_dict") else dict(chart)
        out.append(
            Chart(name, _title(spec) or name.replace("_", " "), spec, captions.get(name, ""))
        )
    return out


def _title(spec: Mapping[str, Any]) -> str:
    title = spec.get("title")
    if isinstance(title, Mapping):
        title = title.get("text")
    if isinstance(title, list):
        title = " ".join(map(str, title))
    return str(title) if title else ""


def table_node(
    name: str,
    title: str,
    frame: pd.DataFrame,
    max_rows: int,
    *,
    caption: str = "",
    source: str = "",
    percent: Sequence[str] = (),
    columns: Sequence[str] | None = None,
) -> Table:
    """A table node showing at most ``max_rows`` rows of ``frame`` (``columns`` when given)."""
    if columns is not None:
        frame = frame[[c for c in columns if c in frame.columns]]
    shown = frame.head(max_rows).reset_index(drop=True)
    total = len(frame) if len(frame) > len(shown) else None
    return Table(name, title, shown, caption, total, source if total else "", tuple(percent))
