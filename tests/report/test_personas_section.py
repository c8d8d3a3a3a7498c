"""The personas section's lead lists each persona once, separated so that a name holding a
comma ("Large-Basket, Off-Season Customers") stays one name."""

from __future__ import annotations

import re

import custlens
from custlens.pipeline.stages.sections import personas_section


def test_the_lead_lists_every_persona_with_its_size_separated_by_semicolons():
    orders = custlens.datasets.synthetic(600, seed=2).orders
    results = custlens.run(orders, settings=custlens.Settings(analyses=["personas"], seed=2))
    section = personas_section(results.stages["personas"], results)
    listed = section.lead.split(": ", 1)[1].rstrip(".").split("; ")
    counts = results.customers["persona"].value_counts()
    assert len(listed) == len(counts) > 1
    for item in listed:
        name, size = re.fullmatch(r"(.+) \(([\d,]+)\)", item).groups()
        assert int(size.replace(",", "")) == counts[name]
    headline = results.stages["personas"].headline(results)[0]
    assert headline.removeprefix("Personas: ").split("; ") == listed
