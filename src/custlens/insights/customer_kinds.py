"""Insights about customers and segments: segment shifts, high-value customers at risk, cohorts
whose retention fell, and the strongest cross-sell rule per segment.

- Segment shifts read the migration stage: when the Stuart-Maxwell test rejects equal state
  shares at ``alpha``, each state whose McNemar p-value (Benjamini-Hochberg across the states)
  is below ``alpha`` is a finding; its CRM list is the customers who left it (when it shrank) or
  entered it (when it grew).
- High-value at risk: customers in the top ``value_quantile`` of CLV (historical monetary value
  when predictions did not run) whose churn probability is at least ``churn_threshold``, or whose
  days since the last order exceed ``overdue_factor`` times their own cadence (days between their
  first and last order over the number of gaps; customers with two or more orders).
- Cohort retention: the share of a cohort active ``cohort_month`` months after its first order,
  against the pooled ``cohort_baseline`` earlier cohorts (at least three; one-sided
  two-proportion z-test, Benjamini-Hochberg across the cohorts tested). The first cohort is left
  out: it holds every customer who bought before the data start.
- Cross-sell: from the basket stage's rules, per segment the rule with the highest lift (ties:
  confidence).
"""

from __future__ import annotations

from datetime import date
from typing import Any

import numpy as np
import pandas as pd

from custlens.config.insights import DEFAULT_ACTIONS, InsightsConfig
from custlens.insights.record import Insight, format_p
from custlens.insights.statistics import benjamini_hochberg, two_proportion
from custlens.segment.migration import LOST, NEW


def _action(config: InsightsConfig, key: str, **fields: str) -> str:
    return config.actions.get(key, DEFAULT_ACTIONS[key]).format(**fields)


def segment_shifts(
    summary: dict[str, Any],
    state_tests: pd.DataFrame,
    customer_states: pd.DataFrame,
    config: InsightsConfig,
) -> tuple[list[Insight], pd.DataFrame]:
    """Findings from the migration stage and their CRM lists (insight_id, customer_id)."""
    omnibus = summary["stuart_maxwell"]
    p_omni = omnibus.get("p_value")
    if p_omni is None or p_omni >= config.alpha or state_tests.empty:
        return [], pd.DataFrame(columns=["insight_id", "customer_id"])
    tests = state_tests.copy()
    tests["p_adjusted"] = benjamini_hochberg(tests["p_value"].to_numpy())
    out, lists = [], []
    then, now = summary["date_then"], summary["date_now"]
    days = summary.get("lost_after_days")
    # migration's "lost" (no order for a while) is not the RFM segment "Lost": named in words
    gone = f"Customers with no order in {days:,} days" if days else "Customers with no recent order"
    continuing = customer_states[customer_states["state_then"] != NEW]
    for row in tests[tests["p_adjusted"] < config.alpha].itertuples(index=False):
        name = gone if row.state == LOST else str(row.state)
        shrink = row.share_change < 0
        if shrink and row.state in config.ageing_segments:
            continue  # left by ageing: expected among customers present at both dates
        iid = f"segment_shift:{row.state}"
        then_col, now_col = ("state_then", "state_now") if shrink else ("state_now", "state_then")
        moved = continuing[(continuing[then_col] == row.state) & (continuing[now_col] != row.state)]
        where = [_where_they_are(moved[now_col], shrink, days)]
        who = moved
        if shrink and row.state != LOST:
            # those who went up (bought again, a better segment) need no win-back offer
            who = moved[moved["moved_down"]]
            where.append(
                f"The CRM list holds the {len(who):,} who moved down (a lower R + FM score, or "
                f"{_no_order(days)})."
            )
        lists.append(pd.DataFrame({"insight_id": iid, "customer_id": who["customer_id"]}))
        finding = (
            f"{name} went from {row.customers_then:,} to {row.customers_now:,} of the "
            f"{summary['continuing']:,} customers present on both {then} and {now} "
            f"({row.share_change:+.1%} points; {row.left:,} left, {row.entered:,} entered; "
            f"{row.test} {format_p(row.p_value)}, BH-adjusted {format_p(row.p_adjusted)}; "
            f"Stuart-Maxwell {format_p(p_omni)})."
        )
        finding = " ".join([finding, *[w for w in where if w]])
        if row.state == LOST:
            key = "segment_shift.back" if shrink else "segment_shift.lost"
        elif shrink:
            key = "segment_shift.shrink" if len(who) else "segment_shift.up"
        else:
            key = "segment_shift.grow"
        out.append(
            Insight(
                id=iid,
                kind="segment_shift",
                title=f"{name} {'shrank' if shrink else 'grew'} since {then}",
                finding=finding,
                metric="share_change",
                metric_value=float(row.share_change),
                test=str(row.test),
                statistic=float(row.statistic),
                p_value=float(row.p_value),
                p_adjusted=float(row.p_adjusted),
                effect_size=float(row.share_change),
                effect_name="change in share of continuing customers",
                subject_type="segment",
                subject=str(row.state),
                customers=len(who),
                action=_action(
                    config, key, subject=name[0].lower() + name[1:] if row.state == LOST else name
                ),
                numbers={
                    "customers_then": int(row.customers_then),
                    "customers_now": int(row.customers_now),
                    "left": int(row.left),
                    "entered": int(row.entered),
                    "continuing": int(summary["continuing"]),
                },
            )
        )
    crm = pd.concat(lists, ignore_index=True) if lists else pd.DataFrame()
    return out, crm


def _no_order(days: int | None) -> str:
    return f"no order in {days:,} days" if days else "no recent order"


def _where_they_are(states: pd.Series, left: bool, days: int | None) -> str:
    """Where the customers who left a state are now (``left``), or where those who entered it
    came from: the three largest states by count, the rest summed."""
    if states.empty:
        return ""
    counts = states.value_counts()
    counts = counts.sort_index(kind="stable").sort_values(ascending=False, kind="stable")

    def part(state: object, n: int) -> str:
        if left:
            return f"{n:,} with {_no_order(days)}" if state == LOST else f"{n:,} in {state}"
        return f"{n:,} back after {_no_order(days)}" if state == LOST else f"{n:,} from {state}"

    parts = [part(state, int(n)) for state, n in counts.head(3).items()]
    rest = int(counts.iloc[3:].sum())
    if rest:
        parts.append(f"{rest:,} elsewhere" if left else f"{rest:,} from other states")
    if left:
        return f"Where the {len(states):,} who left are now: {', '.join(parts)}."
    return f"Where the {len(states):,} who entered came from: {', '.join(parts)}."


def at_risk(customers: pd.DataFrame, config: InsightsConfig) -> tuple[list[Insight], pd.DataFrame]:
    """High-value customers at risk (one insight) and their CRM list."""
    has_clv = "clv" in customers.columns and customers["clv"].notna().any()
    value_col = "clv" if has_clv else "monetary"
    value = customers[value_col].astype(float).fillna(0.0)
    # above 0 as well: when most customers have no value (a CLV of 0 for those the models see
    # as gone), the quantile is 0 and ">= 0" would call every customer "most valuable"
    top = (value >= value.quantile(config.value_quantile)) & (value > 0)
    gaps = customers["frequency"].astype(float) - 1
    span = (customers["last_order"] - customers["first_order"]).dt.days.astype(float)
    cadence = span / gaps.where(gaps > 0)
    overdue_ratio = customers["recency_days"].astype(float) / cadence.where(cadence > 0)
    overdue = overdue_ratio > config.overdue_factor
    churny = pd.Series(False, index=customers.index)
    if "churn_probability" in customers.columns:
        churny = customers["churn_probability"].astype(float) >= config.churn_threshold
    risky = top & (churny | overdue.fillna(False))
    crm = customers.loc[risky, ["customer_id"]].assign(
        value=value[risky],
        churn_probability=customers["churn_probability"][risky]
        if "churn_probability" in customers.columns
        else np.nan,
        overdue_ratio=overdue_ratio[risky],
        recency_days=customers["recency_days"][risky],
    )
    crm = crm.sort_values(["value", "customer_id"], ascending=[False, True])
    n = int(risky.sum())
    if n == 0:
        return [], crm.iloc[:0]
    total = float(value.sum())
    at_stake = float(value[risky].sum())
    share = at_stake / total if total else 0.0
    label = "CLV" if has_clv else "historical revenue (no CLV: predictions did not run)"
    rule = (
        f"top {1 - config.value_quantile:.0%} by {value_col} (above 0) and ("
        + (
            f"churn probability >= {config.churn_threshold:g} or "
            if "churn_probability" in customers
            else ""
        )
        + f"days since last order > {config.overdue_factor:g} x own cadence)"
    )
    n_overdue = int((top & overdue.fillna(False)).sum())
    why = (
        f"{int((top & churny).sum()):,} by churn probability, {n_overdue:,} overdue"
        if "churn_probability" in customers.columns
        else f"all {n_overdue:,} overdue by more than {config.overdue_factor:g}x their cadence"
    )
    # the value named in the sentence and title: the predictions section's list (top spenders
    # likely to churn) is another rule, and "most valuable" alone read as the same list
    by = "CLV" if has_clv else "past spend"
    finding = (
        f"{n:,} of the {int(top.sum()):,} customers in the top "
        f"{1 - config.value_quantile:.0%} by {by} are at risk ({why}), "
        f"holding {at_stake:,.0f} of {label} ({share:.1%} of the total)."
    )
    insight = Insight(
        id="high_value_at_risk:customers",
        kind="high_value_at_risk",
        title=f"Top customers by {by} at risk",
        finding=finding,
        metric="value_share",
        metric_value=share,
        test=f"rule: {rule}",
        effect_size=share,
        effect_name=f"share of total {value_col} at risk",
        subject_type="customers",
        subject=f"top {1 - config.value_quantile:.0%} by {value_col}",
        customers=n,
        action=_action(config, "high_value_at_risk", subject="these customers"),
        numbers={"customers": n, "value_at_stake": at_stake, "value_total": total},
    )
    return [insight], crm.assign(insight_id=insight.id)


COHORT_TEST_COLUMNS = (
    "cohort", "customers", "retained", "retention", "baseline_cohorts", "baseline_customers",
    "baseline_retention", "z", "p_value", "p_adjusted", "retention_drop",
)  # fmt: skip


def cohort_drops(
    cohorts: pd.DataFrame, as_of: date, config: InsightsConfig
) -> tuple[list[Insight], pd.DataFrame]:
    """Cohorts retained less in month ``cohort_month`` than the pooled earlier cohorts."""
    k = config.cohort_month
    sizes = cohorts.drop_duplicates("cohort").set_index("cohort")["cohort_customers"]
    cell = cohorts[cohorts["months_since"] == k].set_index("cohort")
    # a cohort's month-k cell counts when that month is complete; rows are absent when nobody
    # came back
    # the first cohort holds every customer who bought before the data start (left-censored)
    order = list(sizes.index)[1:]
    as_of_m = as_of.year * 12 + as_of.month - 1
    horizon = {c: as_of_m - 1 - (int(c[:4]) * 12 + int(c[5:7]) - 1) for c in order}
    eligible = [c for c in order if horizon[c] >= k and sizes[c] >= config.cohort_min_customers]
    rows = []
    for i, c in enumerate(eligible):
        earlier = eligible[max(0, i - config.cohort_baseline) : i]
        if len(earlier) < 3:
            continue
        kept = int(cell["customers"].get(c, 0))
        base_kept = int(sum(int(cell["customers"].get(e, 0)) for e in earlier))
        base_n = int(sum(int(sizes[e]) for e in earlier))
        z, p = two_proportion(kept, int(sizes[c]), base_kept, base_n)
        rows.append(
            {
                "cohort": c,
                "customers": int(sizes[c]),
                "retained": kept,
                "retention": kept / sizes[c],
                "baseline_cohorts": len(earlier),
                "baseline_customers": base_n,
                "baseline_retention": base_kept / base_n if base_n else np.nan,
                "z": z,
                "p_value": p,
            }
        )
    table = pd.DataFrame(rows, columns=COHORT_TEST_COLUMNS[:-2])
    if table.empty:
        return [], pd.DataFrame({c: pd.Series(dtype="float64") for c in COHORT_TEST_COLUMNS})
    table["p_adjusted"] = benjamini_hochberg(table["p_value"].to_numpy())
    table["retention_drop"] = table["baseline_retention"] - table["retention"]
    out = []
    for row in table[table["p_adjusted"] < config.alpha].itertuples(index=False):
        finding = (
            f"{row.retained:,} of the {row.customers:,} customers acquired in {row.cohort} "
            f"({row.retention:.1%}) bought again in month {k} after their first order, against "
            f"{row.baseline_retention:.1%} of the {row.baseline_customers:,} customers of the "
            f"{row.baseline_cohorts} cohorts before (two-proportion z = {row.z:.2f}, "
            f"{format_p(row.p_value)}, BH-adjusted {format_p(row.p_adjusted)})."
        )
        out.append(
            Insight(
                id=f"cohort_retention:{row.cohort}",
                kind="cohort_retention",
                title=f"Cohort {row.cohort} retained fewer customers",
                finding=finding,
                metric="retention_drop",
                metric_value=float(row.retention_drop),
                test="two-proportion z-test (one-sided) against the earlier cohorts",
                statistic=float(row.z),
                p_value=float(row.p_value),
                p_adjusted=float(row.p_adjusted),
                effect_size=float(-row.retention_drop),
                effect_name=f"retention difference in month {k} (points)",
                subject_type="cohort",
                subject=str(row.cohort),
                customers=int(row.customers),
                action=_action(config, "cohort_retention", subject=str(row.cohort)),
                numbers={
                    "retained": int(row.retained),
                    "cohort_customers": int(row.customers),
                    "baseline_retention": float(row.baseline_retention),
                    "baseline_customers": int(row.baseline_customers),
                    "month": k,
                },
            )
        )
    return out, table


def _rules_table(tables: dict[str, pd.DataFrame]) -> pd.DataFrame | None:
    """The basket result's rules in one shape (``segment, antecedent, consequent, lift,
    confidence`` and ``p_value``/``q_value`` when given): its per-segment rules when it has them
    (a ``segment`` column, or ``by == "segment"`` with the segment in ``group``), else its
    overall rules; None when it has no rules table."""
    found = []
    for t in tables.values():
        if not {"lift", "confidence"} <= set(t.columns):
            continue
        if "antecedent" in t.columns and "consequent" in t.columns:
            frame = t.copy()
        elif "antecedent_1" in t.columns and "consequent_1" in t.columns:
            frame = t.copy()
            if "rule" in frame.columns:  # "A + B -> C" with the item labels
                parts = frame["rule"].astype(str).str.split(" -> ", n=1, regex=False)
                frame["antecedent"], frame["consequent"] = parts.str[0], parts.str[1]
            else:
                frame["antecedent"] = frame["antecedent_1"].astype(str)
                frame["consequent"] = frame["consequent_1"].astype(str)
        else:
            continue
        if "segment" not in frame.columns and {"by", "group"} <= set(frame.columns):
            frame = frame[frame["by"] == "segment"].rename(columns={"group": "segment"})
        found.append(frame)
    per_segment = [t for t in found if "segment" in t.columns and not t.empty]
    return (per_segment or found or [None])[0]


def cross_sell(basket_tables: dict[str, pd.DataFrame], config: InsightsConfig) -> list[Insight]:
    """The strongest rule (highest lift, then confidence) per segment, or overall; when the
    rules carry a Benjamini-Hochberg ``q_value`` only rules with ``q_value < alpha`` count."""
    rules = _rules_table(basket_tables)
    if rules is None or rules.empty:
        return []
    frame = rules.copy()
    if "q_value" in frame.columns:
        frame = frame[frame["q_value"].astype(float) < config.alpha]
    if "segment" not in frame.columns:
        frame["segment"] = "all"
    frame = frame.sort_values(
        ["segment", "lift", "confidence"], ascending=[True, False, False], kind="stable"
    )
    out = []
    for row in frame.groupby("segment", sort=True).head(1).to_dict("records"):
        seg, ant, con = str(row["segment"]), _items(row["antecedent"]), _items(row["consequent"])
        p, q = row.get("p_value"), row.get("q_value")
        # segment names are nouns ("Champions") or not ("At Risk"): named as the segment
        who, general = (
            ("Customers", "customers")
            if seg == "all"
            else (f"In the segment {seg}, customers", "the segment's customers")
        )
        finding = (
            f"{who} who buy {ant} also buy {con} with confidence "
            f"{float(row['confidence']):.1%}, {float(row['lift']):.2f} times as often as "
            f"{general} in general"
            + (f" (support {float(row['support']):.2%})" if "support" in row else "")
            + (
                f"; {format_p(float(p))}, BH-adjusted {format_p(float(q))}"
                if p is not None and q is not None
                else ""
            )
            + "."
        )
        out.append(
            Insight(
                id=f"cross_sell:{seg}",
                kind="cross_sell",
                title=f"Cross-sell for {seg}: {ant} -> {con}",
                finding=finding,
                metric="lift",
                metric_value=float(row["lift"]),
                test="association rule (lift, confidence)"
                + ("; the basket stage's test with Benjamini-Hochberg" if q is not None else ""),
                p_value=float(p) if p is not None and p == p else None,
                p_adjusted=float(q) if q is not None and q == q else None,
                effect_size=float(row["lift"]),
                effect_name="lift",
                subject_type="segment",
                subject=seg,
                action=_action(config, "cross_sell", subject=seg, antecedent=ant, consequent=con),
                numbers={"confidence": float(row["confidence"]), "lift": float(row["lift"])},
            )
        )
    return out


def _items(value: Any) -> str:
    if isinstance(value, list | tuple | np.ndarray):
        return " + ".join(str(v) for v in value)
    return str(value)
