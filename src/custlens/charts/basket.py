"""Market basket chart specs: the co-purchase heatmap and the strongest rules."""

from __future__ import annotations

import altair as alt
import pandas as pd

from custlens.charts import NAME_PX
from custlens.errors import DataError


def _need(frame: pd.DataFrame, columns: tuple[str, ...], chart: str) -> None:
    missing = [c for c in columns if c not in frame.columns]
    if missing:
        raise DataError(
            f"The {chart} chart needs the columns {', '.join(missing)}",
            where="columns given: " + ", ".join(map(str, frame.columns)),
            fix="pass the tables of the basket stage (BasketResult.tables)",
        )


def _short(text: str, width: int = 28) -> str:
    text = str(text)
    return text if len(text) <= width else text[: width - 1] + "…"


def co_purchase_heatmap(table: pd.DataFrame) -> alt.LayerChart:
    """Top items x top items: lift as colour, orders holding both as the number in each cell."""
    _need(table, ("item_a", "item_b", "together", "lift"), "co-purchase")
    data = table.assign(
        a=table.get("label_a", table["item_a"]).map(_short),
        b=table.get("label_b", table["item_b"]).map(_short),
    )
    order = (
        data.drop_duplicates("a").sort_values(["baskets_a", "a"], ascending=[False, True])["a"]
        if "baskets_a" in data.columns
        else sorted(data["a"].unique())
    )
    order = list(order)
    base = alt.Chart(data).encode(
        x=alt.X("a:N", sort=order, title=None, axis=alt.Axis(labelAngle=-45)),
        y=alt.Y("b:N", sort=order, title=None),
    )
    heat = base.mark_rect().encode(
        color=alt.Color("lift:Q", title="lift", scale=alt.Scale(scheme="blues")),
        tooltip=[
            alt.Tooltip("a:N", title="item"),
            alt.Tooltip("b:N", title="with"),
            alt.Tooltip("together:Q", title="orders with both", format=",.0f"),
            alt.Tooltip("lift:Q", format=".2f"),
        ],
    )
    text = base.mark_text(fontSize=8).encode(text=alt.Text("together:Q", format=",.0f"))
    return (heat + text).properties(
        title="Co-purchase of the most frequent items (colour: lift; number: orders with both)",
        width=480,
        height=480,
    )


def _rule_labels(rules: pd.Series, budget: int = 64) -> list[str]:
    """Each rule in about ``budget`` characters with every item shortened alike, never the rule
    as a whole (that cut off what the rule leads to: "REGENCY TEA PLATE PINK -> REG…"); labels
    that two rules would share get the rule's place in the list, so they stay two bars."""
    labels = []
    for rule in rules.astype(str):
        sides = [side.split(" + ") for side in rule.split(" -> ")]
        items = sum(len(side) for side in sides)
        width = max(12, (budget - 4 * (items - 1)) // items)
        labels.append(" -> ".join(" + ".join(_short(i, width) for i in side) for side in sides))
    twice = pd.Series(labels).duplicated(keep=False).tolist()
    return [
        f"{label} (#{i + 1})" if dup else label
        for i, (label, dup) in enumerate(zip(labels, twice, strict=True))
    ]


def top_rules_chart(rules: pd.DataFrame, top: int = 15) -> alt.Chart:
    """The ``top`` rules by lift (the table's order) with their confidence as colour."""
    _need(rules, ("rule", "lift", "confidence", "support", "count"), "top rules")
    data = rules.head(top)
    data = data.assign(label=_rule_labels(data["rule"]))
    return (
        alt.Chart(data)
        .mark_bar()
        .encode(
            x=alt.X("lift:Q", title="lift"),
            y=alt.Y("label:N", sort=None, title=None, axis=alt.Axis(labelLimit=NAME_PX)),
            color=alt.Color("confidence:Q", title="confidence", scale=alt.Scale(scheme="greens")),
            tooltip=[
                "rule:N",
                alt.Tooltip("lift:Q", format=".2f"),
                alt.Tooltip("confidence:Q", format=".1%"),
                alt.Tooltip("support:Q", format=".2%"),
                alt.Tooltip("count:Q", title="orders", format=",.0f"),
            ],
        )
        .properties(title=f"Strongest {len(data)} rules by lift", width=420)
    )
