"""The migration chart names migration's own states in words: "lost" (no order for a while) sat
beside the RFM segment "Lost" in the matrix."""

from __future__ import annotations

import pandas as pd

from custlens.charts.migration import transition_heatmap


def test_new_and_lost_are_named_in_words_beside_the_segment_lost() -> None:
    transitions = pd.DataFrame(
        {
            "from_state": ["new", "Lost", "Lost", "lost"],
            "to_state": ["Champions", "Lost", "lost", "lost"],
            "customers": [5, 10, 3, 2],
            "row_share": [1.0, 10 / 13, 3 / 13, 1.0],
        }
    )
    spec = transition_heatmap(transitions, "2011-09-11", "2011-12-10", 365).to_dict()
    [rows] = [d for d in spec["datasets"].values() if d and "from_state" in d[0]]
    pairs = [(r["from_state"], r["to_state"]) for r in rows]
    assert pairs == [
        ("new (first order after 2011-09-11)", "Champions"),
        ("Lost", "Lost"),
        ("Lost", "no order in 365 days"),
        ("no order in 365 days", "no order in 365 days"),
    ]
    assert transitions["to_state"].tolist()[2] == "lost"  # the caller's table is unchanged
