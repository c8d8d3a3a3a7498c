"""A run's figures drawn while the run goes on: each stage's charts as soon as the stage ends.

Drawing the 25 figures of a full run takes about 5 s of CPU (vl-convert lays each chart out and
draws its pixels), which the report used to wait for after the last stage. The analysis stages
leave part of the machine idle (one Python thread between the engine's parallel queries), so
:class:`EarlyFigures` gives worker processes (:class:`~custlens.charts.processes.ChartProcesses`)
each stage's charts when the stage ends, drawn into a private folder. When the report is written,
:meth:`EarlyFigures.finish` takes each figure drawn early whose chart spec is the one the report
holds (compared as JSON text, so the file's bytes are those the spec gives) and draws the others,
as :func:`custlens.report.figures.write_figures` does.

Drawing early never decides anything: a chart whose spec changed after its stage (a later stage
added what it shows), one that could not be built early or a worker that failed is drawn again
at the end, where an error is the run's error.
"""

from __future__ import annotations

import contextlib
import json
import logging
import shutil
import warnings
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from custlens.charts import chart_spec, save_charts, write_chart_file
from custlens.charts.processes import ChartProcesses
from custlens.errors import OutputError
from custlens.outputs import private_temp_dir
from custlens.pipeline import Results
from custlens.report.figures import rfm_charts

log = logging.getLogger(__name__)

SCALE = 2.0  # save_charts' default, which write_figures uses


def _text(spec: Mapping[str, Any]) -> str:
    return json.dumps(spec, default=str)


class EarlyFigures:
    """Draw a run's figures (``fmt``: png or svg) stage by stage; a context manager that stops
    the workers and removes its private folder on exit."""

    def __init__(self, fmt: str = "png") -> None:
        self.fmt = fmt
        self._folder: Path | None = None
        self._processes: ChartProcesses | None = None
        self._drawn: dict[str, tuple[str, Path]] = {}  # chart name -> (spec as JSON, file)
        self._seen: set[str] = set()  # stages whose charts were given

    def add(self, results: Results) -> None:
        """Give the workers the charts of the stages of ``results`` not seen yet (the RFM
        charts with the first); meant as the pipeline's ``on_result``."""
        new = [name for name in results.stages if name not in self._seen]
        if not new:
            return
        first = not self._seen
        self._seen.update(new)
        try:
            with warnings.catch_warnings():
                # the report builds these charts again and records their warnings as notes
                warnings.simplefilter("ignore")
                self._give(results, new, first)
        except Exception as exc:  # noqa: BLE001 - drawn at the end instead, where errors count
            log.info("figures of %s not drawn early (%s); drawn with the report", new, exc)

    def _give(self, results: Results, new: list[str], first: bool) -> None:
        charts: dict[str, Any] = rfm_charts(results) if first else {}
        for name in new:
            charts.update(results.stages[name].charts(results))
        if self._folder is None:
            self._folder = Path(private_temp_dir("custlens-figures-"))
        if self._processes is None:
            self._processes = ChartProcesses()
        jobs = []
        for name, chart in charts.items():
            spec = chart_spec(chart)
            path = self._folder / f"{name}.{self.fmt}"
            self._drawn[name] = (_text(spec), path)
            jobs.append((spec, path, f".{self.fmt}"))
        self._processes.submit(jobs, SCALE)

    def finish(self, specs: Mapping[str, Mapping[str, Any]], folder: Path) -> list[Path]:
        """Write every ``name -> spec`` as ``folder/figures/<name>.<fmt>`` (as
        :func:`~custlens.report.figures.write_figures`): the figures drawn early from the same
        spec are copied, the others drawn now. Returns the paths."""
        out = Path(folder) / "figures"
        out.mkdir(parents=True, exist_ok=True)
        self._wait()
        paths: list[Path] = []
        rest: dict[Path, Mapping[str, Any]] = {}
        for name, spec in specs.items():
            target = out / f"{name}.{self.fmt}"
            paths.append(target)
            early = self._drawn.get(name)
            data = _drawn_bytes(early) if early is not None and early[0] == _text(spec) else None
            if data is not None:
                write_chart_file(data, target)  # the mode every figure gets
            else:
                rest[target] = spec
        if rest:
            log.info("%d figures drawn with the report (not drawn early)", len(rest))
            drawing = ChartProcesses() if len(rest) > 2 else contextlib.nullcontext()
            with drawing as processes:
                save_charts(rest, scale=SCALE, processes=processes)
        return paths

    def _wait(self) -> None:
        processes, self._processes = self._processes, None
        if processes is None:
            return
        try:
            processes.wait()
        except OutputError as exc:  # a private file: whatever is missing is drawn again
            log.info("a figure drawn early failed (%s); drawn with the report", exc.what)
        finally:
            processes.close()

    def close(self) -> None:
        """Stop the workers and remove the private folder."""
        if self._processes is not None:
            self._processes.close()
            self._processes = None
        if self._folder is not None:
            shutil.rmtree(self._folder, ignore_errors=True)
            self._folder = None

    def __enter__(self) -> EarlyFigures:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def _drawn_bytes(early: tuple[str, Path]) -> bytes | None:
    """The file a worker drew early, or None when it is missing (the chart is drawn again)."""
    try:
        return early[1].read_bytes()
    except OSError:
        return None
