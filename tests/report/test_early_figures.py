"""Each stage's figures drawn while the run goes on: the same files as drawing them at the end,
and a chart whose spec changed (or could not be built early) drawn again."""

from __future__ import annotations

import tempfile
from pathlib import Path

import pytest
import vl_convert as vlc
from typer.testing import CliRunner

import custlens
import custlens.report.early_figures as early_figures
from custlens.charts import vega_lite_version
from custlens.cli import app
from custlens.datasets import synthetic
from custlens.pipeline import Results
from custlens.report.early_figures import EarlyFigures
from custlens.report.structure import build_story
from custlens.report.write import write_documents


def _figures(folder: Path) -> dict[str, bytes]:
    return {p.name: p.read_bytes() for p in sorted((folder / "figures").iterdir())}


def _png(spec: dict) -> bytes:
    # vl-convert's own one-step PNG (the bytes save_chart writes for a spec)
    version = vega_lite_version(spec)
    version = version if version in vlc.get_vegalite_versions() else None
    return vlc.vegalite_to_png(spec, vl_version=version, scale=2.0)


def test_a_cli_run_draws_its_figures_early_and_writes_the_same_files(tmp_path, monkeypatch):
    data = tmp_path / "orders.parquet"
    synthetic(300, seed=6).orders.to_parquet(data, index=False)
    scratch = tmp_path / "tmp"
    scratch.mkdir()
    monkeypatch.setattr(tempfile, "tempdir", str(scratch))
    late: list[int] = []
    drawn_late = early_figures.save_charts

    def count(charts, **kwargs):
        late.append(len(charts))
        return drawn_late(charts, **kwargs)

    monkeypatch.setattr(early_figures, "save_charts", count)
    out = tmp_path / "out"
    result = CliRunner().invoke(app, ["run", str(data), "--out", str(out), "--quiet"])
    assert result.exit_code == 0, result.output + repr(result.exception)
    assert late == []  # every figure was drawn while the stages ran
    assert not [p for p in scratch.iterdir() if p.name.startswith("custlens-figures-")]
    # the same folder's figures drawn the usual way, at the end, from the stored results
    again = tmp_path / "again"
    write_documents(Results.from_folder(out), again, "png")
    assert _figures(out) == _figures(again)
    assert len(_figures(out)) >= 15


@pytest.fixture(scope="module")
def timing_run(tmp_path_factory):
    path = tmp_path_factory.mktemp("early") / "orders.parquet"
    synthetic(200, seed=8).orders.to_parquet(path, index=False)
    return custlens.run(str(path), settings=custlens.Settings(analyses=["timing"]))


def test_a_chart_whose_spec_changed_is_drawn_again(timing_run, tmp_path, monkeypatch):
    specs = {chart.name: chart.spec for chart in build_story(timing_run).charts()}
    name = next(n for n in specs if n not in ("segments", "rfm_grid"))
    changed = dict(specs)
    changed[name] = {**specs[name], "title": "drawn after its stage changed"}
    late: list[str] = []
    drawn_late = early_figures.save_charts

    def record(charts, **kwargs):
        late.extend(Path(p).stem for p in charts)
        return drawn_late(charts, **kwargs)

    monkeypatch.setattr(early_figures, "save_charts", record)
    with EarlyFigures("png") as early:
        early.add(timing_run)
        early.finish(changed, tmp_path)
    assert late == [name]
    files = _figures(tmp_path)
    assert files[f"{name}.png"] == _png(changed[name])
    assert files["segments.png"] == _png(specs["segments"])


def test_a_chart_that_cannot_be_built_early_is_drawn_at_the_end(timing_run, tmp_path, monkeypatch):
    specs = {chart.name: chart.spec for chart in build_story(timing_run).charts()}
    result_type = type(timing_run.stages["timing"])

    def broken(self, results):
        raise RuntimeError("not now")

    with EarlyFigures("png") as early:
        with monkeypatch.context() as patch:
            patch.setattr(result_type, "charts", broken)
            early.add(timing_run)  # logged, not raised
        paths = early.finish(specs, tmp_path)
    assert [p.stem for p in paths] == list(specs)
    files = _figures(tmp_path)
    assert set(files) == {f"{n}.png" for n in specs}
    for n, spec in specs.items():
        assert files[f"{n}.png"] == _png(spec), n


def test_closing_removes_the_private_folder_and_stops_the_workers(timing_run):
    early = EarlyFigures("png")
    early.add(timing_run)
    folder = early._folder
    workers = [w for w in early._processes._workers if w is not None]
    assert folder is not None and folder.is_dir() and workers
    early.close()
    assert not folder.exists()
    assert all(w.poll() is not None for w in workers)


def test_warnings_of_an_early_build_are_left_to_the_reports_build(timing_run, monkeypatch):
    import warnings

    result_type = type(timing_run.stages["timing"])
    charts = result_type.charts

    def warning_charts(self, results):
        warnings.warn("Mean of empty slice", RuntimeWarning, stacklevel=2)
        return charts(self, results)

    monkeypatch.setattr(result_type, "charts", warning_charts)
    with EarlyFigures("png") as early, warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        early.add(timing_run)
        drawn = set(early._drawn)
    assert [str(w.message) for w in caught] == []
    # drawn early all the same (the report's build raises the warning again, as a note)
    assert set(charts(timing_run.stages["timing"], timing_run)) <= drawn
