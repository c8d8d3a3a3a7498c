"""Who counts as "most valuable" in the high-value-at-risk insight: the top quarter by value,
and never a customer whose value is 0 (when most have none, the quantile is 0)."""

from __future__ import annotations

import pandas as pd

from custlens.config.insights import InsightsConfig
from custlens.insights.customer_kinds import at_risk


def _customers(clv: list[float], churn: list[float]) -> pd.DataFrame:
    n = len(clv)
    first = pd.Timestamp("2024-01-01")
    return pd.DataFrame(
        {
            "customer_id": [f"c{i:02d}" for i in range(n)],
            "clv": clv,
            "churn_probability": churn,
            "monetary": [100.0] * n,
            "frequency": [1] * n,  # one order each: no cadence, so nobody is "overdue"
            "first_order": [first] * n,
            "last_order": [first] * n,
            "recency_days": [30] * n,
        }
    )


def test_when_most_customers_have_no_value_only_those_with_some_are_most_valuable():
    # 20 customers, 17 with a CLV of 0: the 75 % quantile is 0. Every customer is likely to churn
    clv = [0.0] * 17 + [50.0, 80.0, 120.0]
    found, crm = at_risk(_customers(clv, [0.9] * 20), InsightsConfig())
    assert list(crm["customer_id"]) == ["c19", "c18", "c17"]  # by value, highest first
    (insight,) = found
    assert insight.customers == 3
    assert insight.finding.startswith("3 of the 3 customers in the top 25% by CLV are at risk")
    assert insight.numbers["value_at_stake"] == 250.0


def test_the_top_quarter_by_value_when_values_are_spread():
    # values 1..20: the 75 % quantile (linear) is 15.25, so 16..20 are the top; 17 and 19 churn
    clv = [float(v) for v in range(1, 21)]
    churn = [0.9 if v in (17, 19) else 0.1 for v in range(1, 21)]
    found, crm = at_risk(_customers(clv, churn), InsightsConfig())
    assert list(crm["customer_id"]) == ["c18", "c16"]
    assert found[0].finding.startswith("2 of the 5 customers in the top 25% by CLV are at risk")
