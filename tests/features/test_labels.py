"""Feature labels: how a feature's value reads in an anomaly reason (expected texts by hand)."""

from __future__ import annotations

import pytest

from custlens.config.analyses import DEFAULT_ANOMALY_FEATURES
from custlens.features.catalog import FEATURES
from custlens.features.labels import FEATURE_LABELS, format_share, label, reason_text

ORDER_SIGNALS = {"max_line_units", "cancelled_units_share"}  # anomalies.orders, not catalogued


@pytest.mark.parametrize(
    ("name", "value", "typical", "expected"),
    [
        ("returned_items_share", 1.0, 0.0, "returned 100% of items (typical 0%)"),
        ("max_items_per_order", 8.0, 1.0, "up to 8 items in an order (typical 1)"),
        ("monetary", 152300.0, 650.0, "spent 152,300 (typical 650)"),
        ("return_rate", 0.516, 0.0, "returned 52% of the value bought (typical 0%)"),
        ("cancelled_units_share", 0.004, 0.0, "cancelled or returned 0.4% of units (typical 0%)"),
        ("orders_per_active_month", 5.54, 1.0, "5.54 orders per active month (typical 1)"),
        ("recency_days", 373.0, 50.0, "last order 373 days ago (typical 50)"),
        # a value that reads 1 takes the singular
        ("frequency", 1.0, 2.0, "1 order (typical 2)"),
        ("recency_days", 1.0, 50.0, "last order 1 day ago (typical 50)"),
        ("orders_per_active_month", 1.0, 1.0, "1 order per active month (typical 1)"),
        ("frequency", 1.5, 2.0, "1.5 orders (typical 2)"),
        ("q4_share", 1.0, 0.33, "placed 100% of orders in Q4 (typical 33%)"),
        ("spend_cv", 0.8, 0.5, "order values vary by 80% of their average (typical 50%)"),
        ("month_03_share", 0.5, 0.08, "placed 50% of orders in March (typical 8%)"),
        (
            "max_line_units",
            80995.0,
            36.0,
            "up to 80,995 units of one product on a line (typical 36)",
        ),
    ],
)
def test_reason_text(name, value, typical, expected):
    assert reason_text(name, value, typical) == expected


@pytest.mark.parametrize(
    ("name", "value", "expected"),
    [
        # returns of goods bought before the data start: said, not capped
        ("returned_items_share", 1.55, "returned 155% of items: more than bought in the data"),
        ("return_rate", 1.12, "returned 112% of the value bought: more than bought in the data"),
        (
            "cancelled_units_share",
            1.02,
            "cancelled or returned 102% of units: more than bought in the data",
        ),
        # reads 100%: nothing more is claimed
        ("returned_items_share", 1.004, "returned 100% of items"),
        ("cancelled_units_share", 0.999975, "cancelled or returned 100% of units"),
    ],
)
def test_a_share_above_100_percent(name, value, expected):
    assert reason_text(name, value, 0.0) == f"{expected} (typical 0%)"


def test_features_without_a_label_read_as_their_name_in_words():
    assert reason_text("interval_cv", 2.5, 0.4) == "interval cv 2.5 (typical 0.4)"
    # a catalogued ratio called *_share is a percentage
    assert reason_text("top_category_share", 0.75, 0.25) == "top category share 75% (typical 25%)"
    assert reason_text("some_column", 3.0, 1.0) == "some column 3 (typical 1)"


def test_format_share():
    assert [format_share(x) for x in (0.0, 0.5, 1.0, 0.004, 0.1234)] == [
        "0%",
        "50%",
        "100%",
        "0.4%",
        "12%",
    ]
    assert format_share(float("nan")) == "missing"


def test_labels_cover_the_default_anomaly_features_and_name_real_features():
    assert set(DEFAULT_ANOMALY_FEATURES) <= set(FEATURE_LABELS)
    catalogued = {spec.name for spec in FEATURES}
    assert set(FEATURE_LABELS) <= catalogued | ORDER_SIGNALS
    for name, spec in FEATURE_LABELS.items():
        assert spec.text.count("{value}") == 1, name
    # shares are the catalogue's ratios (or the cancelled share of the order signals)
    for spec in FEATURES:
        if spec.name in FEATURE_LABELS and FEATURE_LABELS[spec.name].share:
            assert spec.unit == "ratio", spec.name
    assert label("cancelled_units_share").share
