"""The report sections of the analysis stages, as data (``custlens.story``).

Each function reads only a stage result's tables and summary and ``Results`` (so a reopened
results folder gives the same section), turns the numbers into facts, and lets the findings
rules of ``settings.report`` (data) write the sentences.
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING, Any

import pandas as pd

from custlens.story import (
    KPI,
    Bullets,
    Cards,
    Paragraph,
    Section,
    chart_nodes,
    findings,
    table_node,
)

if TYPE_CHECKING:
    from custlens.pipeline.results import Results
    from custlens.pipeline.stages.anomalies import AnomaliesResult
    from custlens.pipeline.stages.basket import BasketResult
    from custlens.pipeline.stages.migration import MigrationResult
    from custlens.pipeline.stages.personas import PersonasResult
    from custlens.pipeline.stages.predictions import PredictionsResult
    from custlens.pipeline.stages.timing import TimingResult


def _places(names: pd.Series, order: list[str]) -> list[int]:
    """Each name's place in ``order`` (a name not in it after every one that is): the sort key
    that lists segments in the RFM rules' order, not by name."""
    place = {name: i for i, name in enumerate(order)}
    return [place.get(str(name), len(place)) for name in names]


def _revenue_share(results: Results, column: str) -> dict[str, float]:
    customers = results.customers
    total = float(customers["monetary"].sum())
    if column not in customers.columns or total <= 0:
        return {}
    by = customers.groupby(column, observed=True)["monetary"].sum() / total
    return {str(k): float(v) for k, v in by.items()}


# ---------------------------------------------------------------- personas


def personas_section(result: PersonasResult, results: Results) -> Section:
    s, t, cfg = result.summary, result.tables, results.settings.report
    profiles = t["profiles"]
    revenue = _revenue_share(results, "persona")
    facts = [
        {
            "persona": str(row.persona),
            "size": int(row.size),
            "share": float(row.share),
            "revenue_share": revenue.get(str(row.persona)),
            "description": str(getattr(row, "description", "") or ""),
        }
        for row in profiles.itertuples(index=False)
    ]
    rules = results.settings.report.findings
    found = findings({"persona": facts, "personas": [dict(s)]}, rules)
    fidelity = s.get("surrogate_tree_fidelity")
    ari = s.get("stability_ari")
    cards = Cards(
        (
            KPI("Personas", str(s.get("k")), "chosen k"),
            KPI("Stability", "n/a" if ari is None else f"{ari:.2f}", "adjusted Rand index"),
            KPI(
                "Tree fidelity",
                "n/a" if fidelity is None else f"{fidelity:.0%}",
                "surrogate tree agrees (held out)",
            ),
            KPI("Outliers", f"{s.get('outliers_kept_out_of_fit', 0):,}", "kept out of the fit"),
        )
    )
    profile_cols = ["persona", "size", "share", "description"]
    profile_cols += [c for c in profiles.columns if c.endswith("_median")][:6]
    table = profiles.assign(revenue_share=profiles["persona"].astype(str).map(revenue))
    blocks: list[Any] = [
        cards,
        table_node(
            "persona_profiles_table",
            "Persona profiles (medians)",
            table,
            cfg.max_table_rows,
            columns=[*profile_cols[:3], "revenue_share", *profile_cols[3:]],
            percent=("share", "revenue_share"),
            source="personas/profiles.csv",
        ),
    ]
    charts = result.charts(results)
    order = ("persona_radar", "persona_map", "persona_profiles", "persona_k_selection")
    blocks += chart_nodes({k: charts[k] for k in order if k in charts})
    blocks.append(Paragraph("How k was chosen: " + result.k_reason))
    if "tree_rules" in t and len(t["tree_rules"]):
        rules_t = t["tree_rules"].sort_values(["persona", "support"], ascending=[True, False])
        words = [
            f"{r.persona}: {rule_words(str(r.rule))} "
            f"({int(r.support):,} customers, {float(r.precision):.0%} of them in this persona)"
            for r in rules_t.groupby("persona", sort=False).head(2).itertuples(index=False)
        ]
        lead = "The surrogate decision tree's main rules, in words"
        if fidelity is not None:
            lead += f" (it agrees with the personas for {fidelity:.0%} of held-out customers)"
        blocks.append(Bullets(tuple(words), title=lead))
    blocks += chart_nodes({k: v for k, v in charts.items() if k not in order})
    if result.notes:
        blocks.append(Bullets(tuple(result.notes), title="Notes"))
    # "; " between personas: a name may hold a comma ("Large-Basket, Off-Season Customers")
    sizes = "; ".join(f"{n} ({c:,})" for n, c in s.get("sizes", {}).items())
    return Section(
        id="personas",
        title="Personas",
        lead=f"{s.get('k')} groups of customers who behave alike: {sizes}.",
        findings=found,
        blocks=tuple(blocks),
    )


def rule_words(rule: str) -> str:
    """A surrogate tree rule in words: "frequency <= 4.5 and 0.417 < q4_share <= 0.583" ->
    "frequency at most 4.5, q4 share above 0.417 and at most 0.583" (the report's persona
    section and the app's table)."""
    words = rule.replace(" and ", ", ")
    # a range, "0.417 < q4_share <= 0.583": "q4 share above 0.417 and at most 0.583"
    words = re.sub(r"(\S+) < ([^,<>]+?) <= ", r"\2 above \1 and at most ", words)
    words = words.replace("<=", "at most").replace(">", "above")
    return words.replace("_", " ")


# ---------------------------------------------------------------- anomalies

# one machine-readable reason: "name value (typical median)", e.g. "monetary 152300 (typical 650)"
_REASON = re.compile(r"^\s*([A-Za-z0-9_]+)\s+(-?[0-9.eE+-]+)\s+\(typical\s+(-?[0-9.eE+-]+)\)")


def _top_reason(flagged: pd.DataFrame, phrases: dict[str, tuple[str, str]]) -> tuple[str, float]:
    """The most common first reason of the flagged customers, in words, and its share.

    Read from ``anomaly_reason_features`` (feature names, raw values); a results folder written
    before that column existed has them in ``anomaly_reasons``."""
    column = next(
        (c for c in ("anomaly_reason_features", "anomaly_reasons") if c in flagged.columns), None
    )
    if column is None or flagged.empty:
        return "", 0.0
    reasons = flagged[column]
    said = []
    for text in reasons.fillna("").astype(str):
        m = _REASON.match(text.split(";")[0])
        if not m:
            continue
        feature, value, typical = m.group(1), float(m.group(2)), float(m.group(3))
        low, high = phrases.get(feature, (f"have a low {feature}", f"have a high {feature}"))
        said.append(high if value >= typical else low)
    if not said:
        return "", 0.0
    counts = pd.Series(said).value_counts()
    return str(counts.index[0]), float(counts.iloc[0] / len(reasons))


def _quantifier(share: float) -> str:
    if share > 0.5:
        return "most"
    if share >= 0.25:
        return f"{share:.0%}"
    return f"a few ({share:.0%})"


def _found_caption(found: int, listed: int) -> str:
    """How many were found and, when the stage listed fewer (``max_listed``), how many the CSV
    holds: the CSV is then not every one found."""
    if listed < found:
        return f"{found:,} found; the {listed:,} largest are listed (largest first)."
    return f"{found:,} found; the largest first."


def _cancelled_caption(orders: pd.DataFrame) -> str:
    """How many listed extreme orders were cancelled afterwards, wholly or in part (their value
    was not revenue)."""
    if "cancelled_share" not in orders.columns or not len(orders):
        return ""
    share = orders["cancelled_share"].astype(float)
    whole, part = int((share >= 0.999).sum()), int(((share > 0) & (share < 0.999)).sum())
    if whole + part == 0:
        return " None of the listed orders was cancelled afterwards."
    wholly = f"{whole:,} wholly (more likely entry errors than big orders)" if whole else ""
    partly = f"{part:,} in part" if part else ""
    return (
        f" Cancelled afterwards (column cancelled share): of the listed orders, "
        f"{' and '.join(x for x in (wholly, partly) if x)}."
    )


def anomalies_section(result: AnomaliesResult, results: Results) -> Section:
    s, t, cfg = result.summary, result.tables, results.settings.report
    flagged = t["customers"]
    reason, reason_share = _top_reason(flagged, cfg.reason_phrases)
    total = float(results.customers["monetary"].sum())
    flagged_revenue = float(flagged["monetary"].sum()) if "monetary" in flagged else 0.0
    fact = {
        "flagged": int(s["flagged"]),
        "customers": int(s["customers"]),
        "flagged_share": s["flagged"] / s["customers"] if s["customers"] else 0.0,
        "flagged_revenue_share": flagged_revenue / total if total else 0.0,
        "top_reason": reason or "stand out on several features at once",
        "top_reason_share": reason_share,
        "top_reason_quantifier": _quantifier(reason_share) if reason else "all",
        "extreme_orders": int(s["extreme_orders"]["found"]),
        "cancellation_pairs": int(s["cancellation_pairs"]["found"]),
    }
    found = findings({"anomalies": [fact]}, cfg.findings)
    cards = Cards(
        (
            KPI(
                "Anomalous customers",
                f"{fact['flagged']:,}",
                f"{fact['flagged_share']:.1%} of customers",
            ),
            KPI("Their revenue", f"{fact['flagged_revenue_share']:.1%}", "of all revenue"),
            KPI("Extreme orders", f"{fact['extreme_orders']:,}", "by order value"),
            # the pairs are of lines: one cancelled order can cancel many purchase lines
            KPI(
                "Cancelled purchase lines",
                f"{fact['cancellation_pairs']:,}",
                "each paired with its cancellation",
            ),
        )
    )
    n = cfg.max_table_rows
    blocks: list[Any] = [
        cards,
        table_node(
            "anomalous_customers",
            "Most anomalous customers, with reasons",
            # the reasons in words; their machine-readable twin stays in the CSV
            flagged.drop(columns=["anomaly_reason_features"], errors="ignore"),
            n,
            source="anomalies/customers.csv",
        ),
        *chart_nodes(result.charts(results)),
        table_node(
            "extreme_orders",
            "Extreme orders",
            t["extreme_orders"],
            n,
            source="anomalies/extreme_orders.csv",
            caption=_found_caption(int(s["extreme_orders"]["found"]), len(t["extreme_orders"]))
            + _cancelled_caption(t["extreme_orders"]),
            percent=("cancelled_share",),
        ),
        table_node(
            "cancellation_pairs",
            "Purchase lines cancelled later",
            t["cancellation_pairs"],
            n,
            source="anomalies/cancellation_pairs.csv",
            caption=_found_caption(
                int(s["cancellation_pairs"]["found"]), len(t["cancellation_pairs"])
            ),
        ),
    ]
    if result.notes:
        blocks.append(Bullets(tuple(result.notes), title="Notes"))
    return Section(
        id="anomalies",
        title="Anomalies",
        lead=f"Customers an isolation forest finds unusual ({s['contamination']:.0%} expected), "
        "with their reasons; extreme orders; purchase lines cancelled later.",
        findings=found,
        blocks=tuple(blocks),
    )


# ---------------------------------------------------------------- timing


def timing_section(result: TimingResult, results: Results) -> Section:
    from custlens.pipeline.stages.timing import ALL_CUSTOMERS
    from custlens.segment.timing import days_per_quarter

    t, cfg = result.tables, results.settings.report
    fact: dict[str, Any] = {}
    windows = list(result.summary.get("best_windows", []))
    # date-only data (no time of day) have no hour x weekday grid and no contact windows
    grid = t.get("hour_weekday", pd.DataFrame(columns=["segment", "orders"]))
    overall = grid[grid["segment"] == ALL_CUSTOMERS]
    orders = float(overall["orders"].sum())
    if orders > 0:
        best = overall.sort_values(["orders", "weekday", "hour"], ascending=[False, True, True])
        top = best.iloc[0]
        business = overall[(overall["weekday"] < 5) & overall["hour"].between(9, 16)]
        fact |= {
            "best_window": windows[0]
            if windows
            else f"{top['weekday_name']} {int(top['hour']):02d}:00",
            "best_window_share": float(top["orders"]) / orders,
            "business_hours_share": float(business["orders"].sum()) / orders,
        }
    seasons = t["quarter_seasonality"]
    by_quarter = seasons.groupby("quarter")["revenue"].sum().reindex([1, 2, 3, 4], fill_value=0)
    customers = results.customers
    days = days_per_quarter(customers["first_order"].min(), customers["last_order"].max())
    if by_quarter.sum() > 0 and bool((days > 0).all()):
        # revenue per day the data cover each quarter: 18 months hold two first quarters
        per_day = by_quarter.astype(float) / days.astype(float)
        fact |= {
            "peak_quarter": int(per_day.idxmax()),
            "peak_quarter_share": float(per_day.max() / per_day.sum()),
        }
    found = findings({"timing": [fact]}, cfg.findings)
    personas_t = result.summary.get("timing_personas", {})
    blocks: list[Any] = []
    if windows:
        blocks.append(Bullets(tuple(windows), title="Best contact windows (all customers)"))
    blocks += chart_nodes(result.charts(results))
    if "contact_windows" in t:
        # all customers first, then the segments in the rules' order (as the charts above)
        windows_t = t["contact_windows"]
        order = [ALL_CUSTOMERS, *(r.name for r in results.settings.rfm.segments)]
        windows_t = windows_t.assign(_place=_places(windows_t["segment"], order)).sort_values(
            ["_place", "segment", "rank"], kind="stable"
        )
        blocks.append(
            table_node(
                "contact_windows",
                "Best contact windows per segment",
                windows_t,
                cfg.max_table_rows,
                columns=["segment", "rank", "window", "share_orders", "share_revenue"],
                percent=("share_orders", "share_revenue"),
                source="timing/contact_windows.csv",
            )
        )
    if personas_t:
        blocks.append(
            Bullets(
                tuple(f"{k}: {v:,} customers" for k, v in personas_t.items()),
                title="Timing personas",
            )
        )
    return Section(
        id="timing",
        title="Timing",
        lead="When customers order: hour x weekday, seasonality and the best contact windows.",
        findings=found,
        blocks=tuple(blocks),
    )


# ---------------------------------------------------------------- basket

_PER_GROUP = 3  # rules and over-indexed products shown per segment or persona


def _items_words(frame: pd.DataFrame, labels: tuple[str, ...], items: tuple[str, ...]) -> pd.Series:
    """``"A + B (+ C)"``: each row's items by label (the product id where a label is missing)."""
    parts = [
        frame[label].where(frame[label].notna() & (frame[label].astype(str) != ""), frame[item])
        for label, item in zip(labels, items, strict=True)
        if item in frame.columns
    ]
    return pd.Series(
        [" + ".join(str(v) for v in row if pd.notna(v)) for row in zip(*parts, strict=True)],
        index=frame.index,
        dtype=object,
    )


def _group_order(results: Results) -> list[str]:
    """Segments in the RFM rules' order (best customers first), then personas by size."""
    order = [r.name for r in results.settings.rfm.segments]
    if "persona" in results.customers.columns:
        sizes = results.customers["persona"].dropna().astype(str).value_counts()
        order += sorted(sizes.index, key=lambda name: (-int(sizes[name]), name))
    return order


def _top_per_group(frame: pd.DataFrame, stat: str, order: list[str]) -> pd.DataFrame:
    """The ``_PER_GROUP`` rows of each (``by``, group) with the largest ``stat``: segments
    first, groups in ``order`` (others after them by name)."""
    ranked = frame.assign(
        _by=(frame["by"] != "segment").astype(int),
        _rank=_places(frame["group"], order),
    ).sort_values(
        ["_by", "_rank", "group", stat], ascending=[True, True, True, False], kind="stable"
    )
    top = ranked.groupby(["by", "group"], sort=False).head(_PER_GROUP)
    return top.drop(columns=["_by", "_rank"]).reset_index(drop=True)


def basket_section(result: BasketResult, results: Results) -> Section:
    """Rules, the products bought together and what each segment or persona buys more than
    the others, in words; every statistic (support, leverage, conviction, p and q values) stays
    in the basket/*.csv files."""
    t, limit = result.tables, results.settings.report.max_table_rows
    order = _group_order(results)
    blocks: list[Any] = [Bullets(tuple(result.headline(results)))]
    for name, title in (
        ("rules", "Strongest rules (orders holding the left side also hold the right side)"),
        ("category_rules", "Strongest rules between product categories"),
    ):
        rules = t.get(name, pd.DataFrame())
        if len(rules):
            blocks.append(
                table_node(
                    f"basket_{name}",
                    title,
                    rules.rename(columns={"count": "orders_with_both"}),
                    limit,
                    columns=["rule", "orders_with_both", "confidence", "lift"],
                    percent=("confidence",),
                    source=f"basket/{name}.csv",
                )
            )
    itemsets = t.get("itemsets", pd.DataFrame())
    together = itemsets[itemsets["size"] >= 2] if len(itemsets) else itemsets
    if len(together):
        together = together.sort_values(["count", "size"], ascending=[False, True], kind="stable")
        words = _items_words(
            together, ("label_1", "label_2", "label_3"), ("item_1", "item_2", "item_3")
        )
        blocks.append(
            table_node(
                "basket_together",
                "Products most often bought together",
                pd.DataFrame(
                    {
                        "products": words,
                        "orders": together["count"],
                        "share_of_orders": together["support"],
                    }
                ),
                limit,
                percent=("share_of_orders",),
                source="basket/itemsets.csv",
            )
        )
    by_group = t.get("segment_rules", pd.DataFrame())
    if len(by_group):
        top = _top_per_group(by_group, "lift", order).rename(columns={"count": "orders_with_both"})
        blocks.append(
            table_node(
                "basket_segment_rules",
                f"Strongest rules within each segment and persona (top {_PER_GROUP})",
                top,
                limit,
                columns=["by", "group", "rule", "orders_with_both", "confidence", "lift"],
                percent=("confidence",),
                caption="Every rule of every group: basket/segment_rules.csv",
            )
        )
    over = t.get("over_index", pd.DataFrame())
    levels = over["level"] if "level" in over.columns else pd.Series("product", index=over.index)
    for level, what in (("product", "Products"), ("category", "Categories")):
        mine = over[levels == level]
        if not len(mine):
            continue
        top = _top_per_group(mine, "index", order).rename(
            columns={
                "label": level,
                "group_share": "share_of_group",
                "overall_share": "share_of_all_customers",
                "index": "times_as_likely",
            }
        )
        top[level] = top[level].where(top[level].notna(), top["item"])
        blocks.append(
            table_node(
                f"basket_over_index_{level}",
                f"{what} each segment and persona buys more than customers overall "
                f"(top {_PER_GROUP})",
                top,
                limit,
                columns=[
                    "by",
                    "group",
                    level,
                    "buyers",
                    "share_of_group",
                    "share_of_all_customers",
                    "times_as_likely",
                ],  # fmt: skip
                percent=("share_of_group", "share_of_all_customers"),
                caption="Every one over-indexed, with its test: basket/over_index.csv",
            )
        )
    blocks += chart_nodes(result.charts(results))
    if result.notes:
        blocks.append(Bullets(tuple(result.notes), title="Notes"))
    return Section(id="basket", title="Basket", blocks=tuple(blocks))


# ---------------------------------------------------------------- migration


def migration_section(result: MigrationResult, results: Results) -> Section:
    """The segments then and now with their tests, the moves between them (most customers
    first), the customers who moved down, and the cohorts' retention as a triangle; shares as
    percentages and migration's own states in words. Every customer's states stay in
    migration/customer_states.csv."""
    from custlens.insights.record import p_cell
    from custlens.segment.migration import state_words

    t, s, limit = result.tables, result.summary, results.settings.report.max_table_rows
    words = state_words(s["date_then"], s.get("lost_after_days"))
    then, now = s["date_then"], s["date_now"]
    blocks: list[Any] = [Bullets(tuple(result.headline(results)))]
    tests = t["state_tests"]
    if len(tests):
        blocks.append(
            table_node(
                "migration_state_tests",
                f"Each state on {then} and on {now}",
                tests.assign(
                    state=tests["state"].replace(words),
                    p_value=[p_cell(v, "no p-value") for v in tests["p_value"]],
                ),
                limit,
                columns=[
                    "state",
                    "customers_then",
                    "customers_now",
                    "stayed",
                    "left",
                    "entered",
                    "share_then",
                    "share_now",
                    "share_change",
                    "p_value",
                ],  # fmt: skip
                percent=("share_then", "share_now", "share_change"),
                caption="Of the customers present on both dates; share change in percentage "
                "points; p value: McNemar's test of the state's share (Benjamini-Hochberg "
                "adjusted p values are in insights.json).",
            )
        )
    moves = t["transitions"]
    if len(moves):
        moves = moves.assign(
            from_state=moves["from_state"].replace(words),
            to_state=moves["to_state"].replace(words),
            share_of_from_state=moves["row_share"],
        ).sort_values(["customers", "from_state", "to_state"], ascending=[False, True, True])
        blocks.append(
            table_node(
                "migration_transitions",
                "Moves between states, most customers first",
                moves,
                limit,
                columns=["from_state", "to_state", "customers", "share_of_from_state"],
                percent=("share_of_from_state",),
                source="migration/transitions.csv",
            )
        )
    down = t["moved_down"]
    if len(down):
        blocks.append(
            table_node(
                "migration_moved_down",
                f"Customers who moved down from {', '.join(s['watch_segments'])} (CRM list)",
                down,
                limit,
                source="migration/moved_down.csv",
            )
        )
    cohorts = t["cohorts"]
    if len(cohorts):
        blocks.append(
            table_node(
                "migration_cohorts",
                "Monthly cohorts: share of each cohort's customers who ordered n months after "
                "their first month",
                _retention_triangle(cohorts),
                limit,
                percent=tuple(c for c in _month_columns(cohorts)),
                caption="A month not yet over is left blank; revenue per cohort and month: "
                "migration/cohorts.csv.",
            )
        )
    blocks += chart_nodes(result.charts(results))
    if result.notes:
        blocks.append(Bullets(tuple(result.notes), title="Notes"))
    return Section(id="migration", title="Migration", blocks=tuple(blocks))


def _month_columns(cohorts: pd.DataFrame) -> list[str]:
    return [f"month_{int(m)}" for m in sorted(cohorts["months_since"].unique()) if int(m) > 0]


def _retention_triangle(cohorts: pd.DataFrame) -> pd.DataFrame:
    """One row per cohort: its customers, then the share who ordered in each later month
    (blank for a month not yet over)."""
    later = cohorts[(cohorts["months_since"] > 0) & cohorts["complete"].astype(bool)]
    wide = later.pivot(index="cohort", columns="months_since", values="customer_share")
    wide.columns = [f"month_{int(m)}" for m in wide.columns]
    size = cohorts.groupby("cohort")["cohort_customers"].first()
    out = pd.DataFrame({"cohort": size.index.astype(str), "customers": size.to_numpy()})
    for column in _month_columns(cohorts):
        out[column] = out["cohort"].map(wide[column]) if column in wide else float("nan")
    return out


# ---------------------------------------------------------------- predictions


def predictions_section(result: PredictionsResult, results: Results) -> Section:
    from custlens.pipeline.stages.model_section import predictions_blocks

    blocks, fact = predictions_blocks(result, results)
    found = findings({"predictions": [fact]}, results.settings.report.findings)
    s = result.summary
    return Section(
        id="predictions",
        title="Predictions",
        lead=f"Churn and customer value, trained before {s['eval_cutoff']} and checked on the "
        f"{s['horizon_days']} days after it against every baseline; then refitted up to "
        f"{results.as_of} to score every customer."
        if s.get("scores") != "skipped"
        else f"Churn and customer value, trained before {s['eval_cutoff']} and checked on the "
        f"{s['horizon_days']} days after it against every baseline; no customer is scored as of "
        f"{results.as_of}, more than a horizon after the data end.",
        findings=found,
        blocks=tuple(blocks),
    )
