"""A run's results folder reopens as the same Results, and a new stage needs one registry line."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import pandas as pd
import pytest

import custlens

if sys.platform != "win32":
    import resource
from custlens.config import Settings
from custlens.errors import OutputError
from custlens.exports import write_results
from custlens.pipeline import Results, registry
from custlens.pipeline.stage import Stage
from custlens.report.figures import figures


@pytest.fixture(scope="module")
def written(tmp_path_factory) -> tuple[Results, Path]:
    data = custlens.datasets.synthetic(800, seed=5)
    results = custlens.run(data.orders, settings=Settings(seed=5))
    out = write_results(results, tmp_path_factory.mktemp("folder") / "results")
    return results, out


def _same(a: pd.DataFrame, b: pd.DataFrame, what: str) -> None:
    pd.testing.assert_frame_equal(
        a.reset_index(drop=True), b.reset_index(drop=True), check_dtype=True, obj=what
    )


def test_every_stage_ran(written):
    results, _ = written
    assert list(results.stages) == [
        "personas",
        "anomalies",
        "timing",
        "basket",
        "predictions",
        "migration",
        "insights",
    ]
    assert results.skipped == {}


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="ru_maxrss in KB: Linux")
def test_each_stage_records_the_memory_high_water_mark(written):
    results, out = written
    peaks = results.stage_peak_mb
    assert list(peaks) == list(results.stage_seconds)  # every stage, in run order
    values = list(peaks.values())
    assert all(v > 0 for v in values)
    assert values == sorted(values)  # a high-water mark never falls
    # read independently of the code under test: this process's peak, now, bounds them all
    now = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # Linux: KB
    assert max(values) <= now + 0.1
    info = json.loads((out / "run.json").read_text())
    assert info["peak_rss_mb"] == peaks
    resident = results.stage_resident_mb
    assert list(resident) == list(results.stage_seconds)
    for name, mb in resident.items():
        assert 0 < mb["before"] <= mb["max"], name
        # a stage's own maximum is below the process's high-water mark at its end
        assert mb["max"] <= peaks[name] + 1, name
    assert info["resident_mb"] == resident


def test_reloaded_folder_equals_the_run(written):
    results, out = written
    again = Results.from_folder(out)
    assert again.as_of == results.as_of
    assert again.settings == results.settings
    assert again.source == results.source
    assert again.quality == results.quality
    assert again.notes == results.notes
    assert again.stage_rows == results.stage_rows
    assert again.stage_peak_mb == results.stage_peak_mb
    assert again.stage_resident_mb == results.stage_resident_mb
    _same(again.customers, results.customers, "customers")
    _same(again.segment_summary, results.segment_summary, "segment_summary")
    assert list(again.stages) == list(results.stages)
    for name, result in results.stages.items():
        reloaded = again.stages[name]
        assert type(reloaded) is type(result)
        assert reloaded.summary == result.summary, name
        assert reloaded.columns == result.columns and reloaded.notes == result.notes
        # in the stage's order: a re-rendered report lists its tables as the run's did
        assert list(reloaded.tables) == list(result.tables), name
        for key, table in result.tables.items():
            _same(reloaded.tables[key], table, f"{name}/{key}")
        assert reloaded.documents() == result.documents(), name


def test_reloaded_folder_gives_the_same_charts(written):
    results, out = written
    again = custlens.pipeline.open_results(out)
    before = {k: v.to_dict() for k, v in figures(results).items()}
    after = {k: v.to_dict() for k, v in figures(again).items()}
    assert before.keys() == after.keys()
    assert len(before) >= 10
    for name in before:
        assert before[name] == after[name], name


def test_reloaded_models_score_like_the_saved_ones(written):
    results, out = written
    again = Results.from_folder(out)
    saved, loaded = results.stages["predictions"].models, again.stages["predictions"].models
    assert loaded.feature_names == saved.feature_names
    assert loaded.defaults == saved.defaults


def test_an_incomplete_folder_is_refused(written, tmp_path):
    with pytest.raises(OutputError, match="run.json is missing"):
        Results.from_folder(tmp_path)


def test_a_new_stage_is_one_registry_line(written, monkeypatch, tmp_path):
    """The example of docs/DEVELOPING.md: run, export, summary and reload need nothing else."""
    example = "tests.pipeline.example_stage"
    stage = Stage("repeat", f"{example}:run", f"{example}:RepeatResult", "repeat customers")
    monkeypatch.setattr(registry, "STAGES", (*registry.STAGES, stage))
    monkeypatch.setattr(registry, "ANALYSES", (*registry.ANALYSES, "repeat"))
    data = custlens.datasets.synthetic(300, seed=2)
    results = custlens.run(data.orders, settings=Settings(analyses=["repeat"]))
    customers = results.customers
    assert results.stages["repeat"].summary["repeat_share"] == pytest.approx(
        (customers["frequency"] >= 2).mean()
    )
    assert customers["is_repeat"].tolist() == (customers["frequency"] >= 2).tolist()
    assert results.stages["repeat"].headline(results)[0].startswith("Repeat customers: ")
    out = write_results(results, tmp_path / "results")
    by_segment = pd.read_csv(out / "repeat" / "by_segment.csv")
    expected = customers.groupby("segment")["frequency"].apply(lambda f: (f >= 2).mean())
    assert by_segment.set_index("segment")["repeat_share"].to_dict() == pytest.approx(
        expected.to_dict(), abs=1e-6
    )
    again = Results.from_folder(out).stages["repeat"]
    assert again.summary == results.stages["repeat"].summary
    _same(again.tables["by_segment"], results.stages["repeat"].tables["by_segment"], "by_segment")
