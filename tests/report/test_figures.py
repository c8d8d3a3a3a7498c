"""The figures of a run: built once for the report's story, saved on threads, same bytes."""

from __future__ import annotations

import json
from pathlib import Path

import altair as alt
import pytest
import vl_convert as vlc

import custlens
from custlens.charts import save_chart, save_charts
from custlens.datasets import synthetic
from custlens.errors import OutputError
from custlens.report.figures import figures
from custlens.report.structure import build_story
from custlens.report.write import write_documents, write_report


@pytest.fixture(scope="module")
def results(tmp_path_factory):
    path = tmp_path_factory.mktemp("figures") / "orders.parquet"
    synthetic(400, seed=3).orders.to_parquet(path, index=False)
    return custlens.run(str(path))


def _files(folder: Path) -> dict[str, bytes]:
    return {
        str(p.relative_to(folder)): p.read_bytes() for p in sorted(folder.rglob("*")) if p.is_file()
    }


def test_every_figure_is_valid_vega_lite_and_in_the_story(results):
    charts = figures(results)
    assert len(charts) >= 15  # RFM, personas, anomalies, timing, basket, models, insights...
    # the schema check that runs no more when the figures are saved from the story's specs
    specs = {name: chart.to_dict(validate=True) for name, chart in charts.items()}
    story = {chart.name: chart.spec for chart in build_story(results).charts()}
    assert set(story) == set(specs)
    for name, spec in specs.items():
        # the RFM charts are plain dicts (inline data) that figures() wraps in Altair (named
        # datasets): compare both after the same round trip through Altair
        mine = alt.Chart.from_dict(story[name]).to_dict(validate=True)
        assert json.dumps(mine, sort_keys=True) == json.dumps(spec, sort_keys=True), name


def test_write_documents_writes_what_the_separate_calls_write(results, tmp_path):
    together = tmp_path / "together"
    together.mkdir()
    write_documents(results, together, "png")
    # the old way: every chart saved one by one from its Altair object, then the report
    apart = tmp_path / "apart"
    (apart / "figures").mkdir(parents=True)
    for name, chart in figures(results).items():
        save_chart(chart, apart / "figures" / f"{name}.png")
    write_report(results, apart)
    assert _files(together) == _files(apart)
    markdown = (together / "report.md").read_text(encoding="utf-8")
    assert markdown.count("](figures/") == len(figures(results))


def test_write_documents_without_figures_links_no_image(results, tmp_path):
    written = write_documents(results, tmp_path, "none")
    assert not (tmp_path / "figures").exists()
    assert "](figures/" not in written.markdown.read_text(encoding="utf-8")
    assert written.html.is_file()


def test_svg_figures_are_linked_as_svg(results, tmp_path):
    write_documents(results, tmp_path, "svg")
    svgs = sorted(p.name for p in (tmp_path / "figures").iterdir())
    assert svgs == sorted(f"{name}.svg" for name in figures(results))
    markdown = (tmp_path / "report.md").read_text(encoding="utf-8")
    assert markdown.count(".svg)") == len(svgs)


def test_png_bytes_are_vl_converts_one_step_png(results, tmp_path):
    charts = figures(results)
    names = ["segments", "rfm_grid", *list(charts)[-3:]]
    paths = save_charts({tmp_path / f"{n}.png": charts[n] for n in names})
    assert [p.name for p in paths] == [f"{n}.png" for n in names]  # in the order given
    version = alt.SCHEMA_VERSION.lstrip("v").rsplit(".", 1)[0]
    version = version if version in vlc.get_vegalite_versions() else None
    for name, path in zip(names, paths, strict=True):
        expected = vlc.vegalite_to_png(charts[name].to_dict(), vl_version=version, scale=2.0)
        assert path.read_bytes() == expected, name


def test_save_charts_checks_every_target_before_drawing(results, tmp_path):
    charts = figures(results)
    with pytest.raises(OutputError, match="Cannot save a chart as '.gif'"):
        save_charts(
            {tmp_path / "a.png": charts["segments"], tmp_path / "b.gif": charts["rfm_grid"]}
        )
    assert list(tmp_path.iterdir()) == []
    with pytest.raises(OutputError, match="folder does not exist"):
        save_charts(
            {tmp_path / "a.png": charts["segments"], tmp_path / "no" / "b.png": charts["segments"]}
        )
    assert list(tmp_path.iterdir()) == []
