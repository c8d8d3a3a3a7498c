"""Charts drawn in worker processes: the same bytes, errors as OutputError, a fallback."""

from __future__ import annotations

import sys

import pytest
import vl_convert as vlc

from custlens.charts import VEGA_LITE_SCHEMA, save_charts, vega_lite_version
from custlens.charts.processes import ChartProcesses
from custlens.errors import OutputError


def _spec(n: int) -> dict:
    return {
        "$schema": VEGA_LITE_SCHEMA,
        "data": {"values": [{"x": i, "y": (i * n) % 7, "label": f"<b>{i}</b>"} for i in range(9)]},
        "mark": "bar",
        "encoding": {
            "x": {"field": "label", "type": "nominal"},
            "y": {"field": "y", "type": "quantitative", "title": f"chart {n}"},
        },
    }


def _expected_png(spec: dict) -> bytes:
    # vl-convert's own one-step PNG, in this process (what save_chart's bytes must equal)
    version = vega_lite_version(spec)
    version = version if version in vlc.get_vegalite_versions() else None
    return vlc.vegalite_to_png(spec, vl_version=version, scale=2.0)


def test_workers_write_the_bytes_of_one_step_png_and_svg(tmp_path):
    specs = {f"c{n}": _spec(n) for n in range(5)}
    targets = {tmp_path / f"{name}.png": spec for name, spec in specs.items()}
    targets[tmp_path / "c0.svg"] = specs["c0"]
    with ChartProcesses(2) as processes:
        paths = save_charts(targets, processes=processes)
    assert paths == list(targets)  # in the order given
    for name, spec in specs.items():
        assert (tmp_path / f"{name}.png").read_bytes() == _expected_png(spec), name
    svg = vlc.vegalite_to_svg(specs["c0"], vl_version=None)
    assert (tmp_path / "c0.svg").read_text(encoding="utf-8") == svg


def test_an_error_in_a_worker_is_the_same_output_error(tmp_path):
    folder = tmp_path / "figures"
    with ChartProcesses(1) as processes, pytest.raises(OutputError) as caught:
        # the folder is checked by save_charts; here it is gone when the worker writes
        processes.draw([(_spec(1), folder / "a.png", ".png")], 2.0)
    assert "Cannot write the chart" in caught.value.what
    assert caught.value.where == str(folder / "a.png")
    assert "permissions" in (caught.value.fix or "")
    assert not folder.exists()


def test_charts_of_a_worker_that_stopped_are_drawn_here(tmp_path):
    specs = [_spec(n) for n in range(4)]
    with ChartProcesses(2) as processes:
        first = processes._workers[0]
        assert first is not None
        first.kill()
        first.wait()
        processes.draw([(s, tmp_path / f"{i}.png", ".png") for i, s in enumerate(specs)], 2.0)
    for i, spec in enumerate(specs):
        assert (tmp_path / f"{i}.png").read_bytes() == _expected_png(spec)


@pytest.mark.parametrize("how", ["missing interpreter", "frozen application"])
def test_charts_are_drawn_here_when_no_worker_can_start(tmp_path, monkeypatch, how):
    if how == "missing interpreter":
        monkeypatch.setattr(sys, "executable", str(tmp_path / "no-python"))
    else:  # e.g. PyInstaller: sys.executable is the application itself
        monkeypatch.setattr(sys, "frozen", True, raising=False)
    with ChartProcesses(2) as processes:
        assert processes._workers == [None, None]
        processes.draw([(_spec(3), tmp_path / "a.png", ".png")], 2.0)
    assert (tmp_path / "a.png").read_bytes() == _expected_png(_spec(3))


def test_closing_stops_workers_that_drew_nothing():
    processes = ChartProcesses(2)
    workers = [w for w in processes._workers if w is not None]
    assert len(workers) == 2 and all(w.poll() is None for w in workers)  # waiting for charts
    processes.close()
    assert all(w.poll() is not None for w in workers)


def test_a_report_of_rfm_only_starts_no_worker(tmp_path, monkeypatch):
    import custlens
    import custlens.report.write as write
    from custlens.datasets import synthetic

    def refuse(*args, **kwargs):
        raise AssertionError("a worker process was started for two figures")

    monkeypatch.setattr(write, "ChartProcesses", refuse)
    data = tmp_path / "orders.parquet"
    synthetic(150, seed=4).orders.to_parquet(data, index=False)
    results = custlens.run(str(data), settings=custlens.Settings(analyses=[]))
    written = write.write_documents(results, tmp_path / "out", "png")
    assert sorted(p.name for p in (tmp_path / "out" / "figures").iterdir()) == [
        "rfm_grid.png",
        "segments.png",
    ]
    assert written.charts == 2


@pytest.mark.parametrize("figures", ["none", "png"])
def test_the_report_goes_into_a_folder_that_does_not_exist_yet(tmp_path, figures):
    """The report's writer creates its folder: with figures, the thread that draws them made it
    only sometimes before report.html was written (a race that failed CI once in two runs);
    without figures nothing made it."""
    import custlens
    import custlens.report.write as write
    from custlens.datasets import synthetic

    data = tmp_path / "orders.parquet"
    synthetic(150, seed=4).orders.to_parquet(data, index=False)
    results = custlens.run(str(data), settings=custlens.Settings(analyses=[]))
    folder = tmp_path / "new" / "deeper"
    written = write.write_documents(results, folder, figures)
    assert written.html == folder / "report.html" and written.html.stat().st_size > 1000
    assert (folder / "report.md").is_file()


def test_workers_do_not_import_from_the_current_folder(tmp_path, monkeypatch, caplog):
    # a user's json.py in the folder they run custlens from must not shadow the standard library
    (tmp_path / "json.py").write_text("raise SystemExit(3)\n", encoding="utf-8")
    monkeypatch.chdir(tmp_path)
    out = tmp_path / "out"
    out.mkdir()
    with caplog.at_level("INFO", logger="custlens.charts.processes"), ChartProcesses(1) as workers:
        workers.draw([(_spec(2), out / "a.png", ".png")], 2.0)
    assert "stopped" not in caplog.text  # drawn by the worker, not by the fallback
    assert (out / "a.png").read_bytes() == _expected_png(_spec(2))


def test_a_worker_stopped_by_sigterm_is_an_error_not_a_fallback(tmp_path):
    import signal

    with ChartProcesses(1) as processes:
        worker = processes._workers[0]
        assert worker is not None
        worker.send_signal(signal.SIGTERM)
        worker.wait()
        with pytest.raises(OutputError, match=r"stopped \(SIGTERM\)"):
            processes.draw([(_spec(1), tmp_path / "a.png", ".png")], 2.0)
    assert not (tmp_path / "a.png").exists()


def test_no_pipe_or_process_is_left_behind(tmp_path):
    # an unclosed pipe is a ResourceWarning, which a run reports as a note to the user
    import gc
    import warnings

    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        with ChartProcesses(2) as drew:
            drew.draw([(_spec(n), tmp_path / f"{n}.png", ".png") for n in range(3)], 2.0)
        with ChartProcesses(1):  # started, never given a chart
            pass
        del drew
        gc.collect()
    assert [str(w.message) for w in caught if issubclass(w.category, ResourceWarning)] == []


def test_charts_given_in_batches_are_drawn_by_the_running_workers(tmp_path):
    specs = [_spec(n) for n in range(5)]
    with ChartProcesses(2) as processes:
        processes.submit([(specs[0], tmp_path / "0.png", ".png")], 2.0)
        processes.submit([(s, tmp_path / f"{i}.png", ".png") for i, s in enumerate(specs)][1:], 2.0)
        with pytest.raises(ValueError, match="scale"):
            processes.submit([(specs[0], tmp_path / "x.png", ".png")], 1.0)
        processes.wait()
    for i, spec in enumerate(specs):
        assert (tmp_path / f"{i}.png").read_bytes() == _expected_png(spec), i
    assert not (tmp_path / "x.png").exists()
