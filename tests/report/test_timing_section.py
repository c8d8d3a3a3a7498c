"""The report's contact-window table reads as the segment tables do: all customers first, then
the segments in the RFM rules' order (best customers first), each segment's windows by rank."""

from __future__ import annotations

import custlens
from custlens.pipeline.stages.sections import timing_section
from custlens.story import Table


def test_contact_windows_all_customers_first_then_segments_in_rule_order():
    orders = custlens.datasets.synthetic(600, seed=3).orders
    results = custlens.run(orders, settings=custlens.Settings(analyses=["timing"], seed=3))
    section = timing_section(results.stages["timing"], results)
    [table] = [b for b in section.blocks if isinstance(b, Table) and b.name == "contact_windows"]
    shown = table.frame
    segments = list(dict.fromkeys(shown["segment"]))
    rules = [r.name for r in custlens.Settings().rfm.segments]
    assert segments[0] == "All customers"
    assert len(segments) > 3
    assert segments[1:] == [s for s in rules if s in segments[1:]]
    for _, rows in shown.groupby("segment", sort=False):
        assert rows["rank"].tolist() == sorted(rows["rank"])
