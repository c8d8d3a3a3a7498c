"""The model card (``models.md``) read as Markdown: every table is a table."""

from __future__ import annotations

import pytest

from custlens.config import CleaningConfig, ModelsConfig
from custlens.datasets.synthetic import synthetic
from custlens.io.clean import clean
from custlens.io.load import load
from custlens.models.model_card import render_model_card
from custlens.models.trainer import backtest_and_evaluate


def test_the_churn_drivers_table_is_a_table_despite_the_pipes_in_its_header():
    """The header "mean |SHAP|" held two pipes that ended the cell: the header had four cells
    over a two-column delimiter row, so the table was shown as one paragraph of raw pipes (in
    models.md and in the app's model card)."""
    markdown_it = pytest.importorskip("markdown_it")
    c = clean(load(synthetic(300, seed=5).orders).table, CleaningConfig())
    ev = backtest_and_evaluate(c.purchases, c.returns, config=ModelsConfig(n_estimators=20))
    card = render_model_card(ev)
    html = markdown_it.MarkdownIt("commonmark").enable("table").render(card)
    drivers = html.split("Top churn drivers", 1)[1].split("<h2>", 1)[0]
    assert "<table>" in drivers, drivers[:300]
    assert "<th>mean |SHAP|</th>" in drivers
    top = next(iter(ev.importance))
    assert f"<td>{top}</td>" in drivers
    # no line of any table is left as raw text
    assert "<p>| " not in html


def test_the_btyd_scorer_is_named_after_the_model_chosen():
    """The BTYD rows were always called "BG/NBD (+ Gamma-Gamma)", also when Pareto/NBD won the
    future period (CDNOW) and the card's BTYD section marked it as chosen."""
    from dataclasses import replace

    c = clean(load(synthetic(300, seed=5).orders).table, CleaningConfig())
    ev = backtest_and_evaluate(c.purchases, c.returns, config=ModelsConfig(n_estimators=20))
    for chosen, name in (("pareto_nbd", "Pareto/NBD"), ("bgnbd", "BG/NBD")):
        card = render_model_card(replace(ev, defaults={**ev.defaults, "btyd": chosen}))
        assert f"| {name} (+ Gamma-Gamma) |" in card
        other = "BG/NBD" if chosen == "pareto_nbd" else "Pareto/NBD"
        assert f"| {other} (+ Gamma-Gamma) |" not in card
