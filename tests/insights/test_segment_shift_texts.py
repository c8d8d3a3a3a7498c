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
            "moved_down": [True] * 20 + [False] * 20,
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
    states = pd.DataFrame(
        {
            "customer_id": ["c1"],
            "state_then": ["At Risk"],
            "state_now": ["Lost"],
            "moved_down": [True],
        }
    )
    found, _ = segment_shifts(summary, tests, states, InsightsConfig())
    assert [i.id for i in found] == ["segment_shift:At Risk"]
    # growing is still reported, and the list of such segments is a setting
    grown = _tests(("New Customers", 0, 30, 0, 30))
    found, _ = segment_shifts(summary, grown, states, InsightsConfig())
    assert [i.id for i in found] == ["segment_shift:New Customers"]
    found, _ = segment_shifts(summary, tests, states, InsightsConfig(ageing_segments=[]))
    assert len(found) == 3


def test_a_shrink_says_where_the_customers_went_and_lists_only_those_who_moved_down():
    # 30 left At Risk: 20 to no order in 365 days, 6 back to Champions, 3 to Loyal Customers,
    # 1 to Hibernating; a new customer now in Champions is not part of the continuing ones
    now = ["lost"] * 20 + ["Champions"] * 6 + ["Loyal Customers"] * 3 + ["Hibernating"]
    states = pd.DataFrame(
        {
            "customer_id": [f"c{i}" for i in range(31)],
            "state_then": ["At Risk"] * 30 + ["new"],
            "state_now": now + ["Champions"],
            "moved_down": [True] * 20 + [False] * 9 + [True, False],
        }
    )
    tests = _tests(("At Risk", 40, 10, 30, 0), ("Champions", 10, 16, 0, 6))
    found, crm = segment_shifts(SUMMARY, tests, states, InsightsConfig())
    by_id = {i.id: i for i in found}
    risk, champions = by_id["segment_shift:At Risk"], by_id["segment_shift:Champions"]
    assert risk.finding.endswith(
        "Where the 30 who left are now: 20 with no order in 365 days, 6 in Champions, 3 in Loyal "
        "Customers, 1 elsewhere. The CRM list holds the 21 who moved down (a lower R + FM score, or no "
        "order in 365 days)."
    )
    listed = crm[crm["insight_id"] == "segment_shift:At Risk"]["customer_id"]
    assert sorted(listed) == sorted([f"c{i}" for i in range(20)] + ["c29"])
    assert risk.customers == 21
    # growth: where the six continuing customers came from; the new customer is not listed
    assert champions.finding.endswith("Where the 6 who entered came from: 6 from At Risk.")
    assert len(crm[crm["insight_id"] == "segment_shift:Champions"]) == 6


def test_fewer_lapsed_customers_is_good_news_with_its_own_action():
    states = pd.DataFrame(
        {
            "customer_id": ["a", "b", "c"],
            "state_then": ["lost"] * 3,
            "state_now": ["Champions", "Loyal Customers", "lost"],
            "moved_down": [False, False, False],
        }
    )
    found, crm = segment_shifts(SUMMARY, _tests(("lost", 30, 28, 2, 0)), states, InsightsConfig())
    [back] = found
    assert back.title == "Customers with no order in 365 days shrank since 2011-09-11"
    assert back.action.startswith("Welcome back the customers who bought again")
    assert sorted(crm["customer_id"]) == ["a", "b"]


def test_a_segment_left_only_upwards_gets_no_win_back_action():
    states = pd.DataFrame(
        {
            "customer_id": ["a", "b"],
            "state_then": ["Need Attention"] * 2,
            "state_now": ["Champions", "Loyal Customers"],
            "moved_down": [False, False],
        }
    )
    tests = _tests(("Need Attention", 20, 18, 2, 0))
    [up], crm = segment_shifts(SUMMARY, tests, states, InsightsConfig())
    assert up.action.startswith("The customers who left Need Attention moved to better segments")
    assert crm.empty
