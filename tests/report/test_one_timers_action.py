"""The one-time buyers' action names how many bought once within the last ``recent_days``
(counted by hand on a small order log), and there is no such action when none did."""

from __future__ import annotations

from datetime import datetime, timedelta

import pandas as pd

import custlens
from custlens.report.structure import overview_facts
from custlens.story import findings

END = datetime(2024, 6, 30, 12, 0)


def _orders(days_ago: dict[str, list[int]]) -> pd.DataFrame:
    rows = [
        {"customer_id": c, "order_id": f"{c}{i}", "date": END - timedelta(days=d), "amount": 10.0}
        for c, days in days_ago.items()
        for i, d in enumerate(days)
    ]
    return pd.DataFrame(rows)


def _action(orders: pd.DataFrame) -> list[str]:
    results = custlens.run(orders, settings=custlens.Settings(analyses=[]))
    facts = {"overview": [overview_facts(results)]}
    rules = results.settings.report.findings
    return [f.action for f in findings(facts, rules) if f.rule == "one_timers" and f.action]


def test_the_action_counts_the_recent_one_time_buyers():
    # one order each, 0, 80, 120 and 300 days before the last order (a-d); e-h ordered twice.
    # As of the day after the last order their recency is 1, 81, 121 and 301 days: a and b
    orders = _orders(
        {"a": [0], "b": [80], "c": [120], "d": [300],
         "e": [1, 50], "f": [2, 60], "g": [3, 70], "h": [4, 90]}
    )  # fmt: skip
    assert _action(orders) == [
        "Send the 2 customers whose only order was in the last 90 days a second-order offer "
        "(customers.csv: frequency 1, recency_days up to 90)."
    ]


def test_no_action_when_no_one_time_buyer_is_recent():
    orders = _orders(
        {"a": [200], "b": [220], "c": [240], "d": [300],
         "e": [1, 50], "f": [2, 60], "g": [3, 70], "h": [4, 90]}
    )  # fmt: skip
    assert _action(orders) == []
