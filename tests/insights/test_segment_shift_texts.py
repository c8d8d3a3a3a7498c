"""Segment-shift findings: migration's "lost" state (no order for ``lost_after_days``) is named
in words, not as the RFM segment "Lost"; a segment named like a plural is not doubled."""

from __future__ import annotations

import pandas as pd

from custlens.config.insights import InsightsConfig
from custlens.insights.customer_kinds import segment_shifts

SUMMARY = {  # the migration stage's summary, as much of it as the findings read
    "stuart_maxwell": {"p_value": 1e-9},
    "date_then": "2011-09-11",
    "date_now": "2011-12-10",
    "continuing": 100,
    "lost_after_days": 365,
}


def _tests(*rows: tuple[str, int, int, int, int]) -> pd.DataFrame:
    n = 100  # continuing customers
    return pd.DataFrame(
        [
            {
                "state": state,
                "customers_then": then,
                "customers_now": now,
                "stayed": then - left,
                "left": left,
                "entered": entered,
                "share_then": then / n,
                "share_now": now / n,
                "share_change": (entered - left) / n,
                "test": "McNemar chi-square",
                "statistic": 30.0,
                "p_value": 1e-8,
            }
            for state, then, now, left, entered in rows
        ]
    )


def test_lost_is_named_in_words_and_segment_names_are_not_doubled():
    summary = SUMMARY
    tests = _tests(("lost", 0, 20, 0, 20), ("Loyal Customers", 40, 20, 20, 0))
    states = pd.DataFrame(
        {
            "customer_id": [f"c{i}" for i in range(40)],
            "state_then": ["Loyal Customers"] * 40,
            "state_now": ["lost"] * 20 + ["Loyal Customers"] * 20,
        }
    )
    found, crm = segment_shifts(summary, tests, states, InsightsConfig())
    by_id = {i.id: i for i in found}
    lost, loyal = by_id["segment_shift:lost"], by_id["segment_shift:Loyal Customers"]
    assert lost.title == "Customers with no order in 365 days grew since 2011-09-11"
    assert lost.finding.startswith(
        "Customers with no order in 365 days went from 0 to 20 of the 100 customers present on "
        "both 2011-09-11 and 2011-12-10 (+20.0% points; 0 left, 20 entered;"
    )
    assert loyal.action.startswith("Find out why customers left Loyal Customers (the CRM list)")
    assert len(crm[crm["insight_id"] == "segment_shift:Loyal Customers"]) == 20


def test_segments_left_by_ageing_are_not_a_finding_when_they_shrink():
    summary = SUMMARY
    # New Customers and Promising empty out among customers present at both dates (expected:
    # they age into other segments); At Risk shrinks as well, which is a finding
    tests = _tests(
        ("New Customers", 37, 0, 37, 0), ("Promising", 20, 0, 20, 0), ("At Risk", 30, 10, 20, 0)
    )
    states = pd.DataFrame({"customer_id": ["c1"], "state_then": ["At Risk"], "state_now": ["Lost"]})
    found, _ = segment_shifts(summary, tests, states, InsightsConfig())
    assert [i.id for i in found] == ["segment_shift:At Risk"]
    # growing is still reported, and the list of such segments is a setting
    grown = _tests(("New Customers", 0, 30, 0, 30))
    found, _ = segment_shifts(summary, grown, states, InsightsConfig())
    assert [i.id for i in found] == ["segment_shift:New Customers"]
    found, _ = segment_shifts(summary, tests, states, InsightsConfig(ageing_segments=[]))
    assert len(found) == 3
