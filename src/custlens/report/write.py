"""Write ``report.html`` and ``report.md`` (charts as PNG in ``figures/``) into a results folder."""

from __future__ import annotations

import contextlib
import logging
import os
import tempfile
import time
from collections.abc import Mapping
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from custlens.charts import save_charts
from custlens.charts.processes import ChartProcesses
from custlens.errors import OutputError
from custlens.pipeline import Results
from custlens.report import figures as figure_files
from custlens.report.early_figures import EarlyFigures
from custlens.report.html import render_html
from custlens.report.markdown import render_markdown
from custlens.report.structure import build_story
from custlens.story import Story

log = logging.getLogger(__name__)

HTML = "report.html"
MARKDOWN = "report.md"
FIGURES = "figures"


@dataclass(frozen=True)
class WrittenReport:
    html: Path
    markdown: Path
    charts: int
    seconds: float


def _write_text(path: Path, text: str) -> None:
    try:
        fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
        try:
            with os.fdopen(fd, "w", encoding="utf-8") as fh:
                fh.write(text)
            os.chmod(tmp, 0o644)  # a document to share, not a secret (mkstemp makes it 0600)
            os.replace(tmp, path)
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise
    except OSError as exc:
        raise OutputError(
            f"Cannot write the report: {exc.strerror or exc}",
            where=str(path),
            fix="check the folder's permissions and free space",
        ) from None


def chart_images(story: Story, folder: Path, *, render_missing: bool = True) -> dict[str, str]:
    """Chart name -> image path relative to ``folder``: figures already written (PNG or SVG)
    are reused; the others are rendered as PNG into ``figures/`` when ``render_missing``."""
    images: dict[str, str] = {}
    figures = folder / FIGURES
    missing: dict[Path, Mapping[str, Any]] = {}
    for chart in story.charts():
        found = [figures / f"{chart.name}.{ext}" for ext in ("png", "svg")]
        existing = next((p for p in found if p.is_file()), None)
        if existing is None and render_missing:
            missing[found[0]] = chart.spec
            existing = found[0]
        if existing is not None:
            images[chart.name] = f"{FIGURES}/{existing.name}"
    if missing:
        figures.mkdir(exist_ok=True)
        save_charts(missing)
    return images


def _write_renderings(
    story: Story, folder: Path, images: Mapping[str, str], start: float
) -> WrittenReport:
    html_path, md_path = folder / HTML, folder / MARKDOWN
    # the folder may not exist yet: the figures' thread, which also creates it, runs meanwhile
    folder.mkdir(parents=True, exist_ok=True)
    _write_text(html_path, render_html(story))
    seconds = time.perf_counter() - start
    log.info("report.html built in %.2f s", seconds)
    _write_text(md_path, render_markdown(story, dict(images)))
    return WrittenReport(html_path, md_path, len(story.charts()), seconds)


def write_report(results: Results, folder: str | Path, *, images: bool = True) -> WrittenReport:
    """Build the story once and write both renderings into ``folder``; return what was written.

    ``images=False`` writes ``report.md`` without rendering missing chart images (figures
    already in ``figures/`` are still linked).
    """
    folder = Path(folder)
    start = time.perf_counter()
    story = build_story(results)
    linked = chart_images(story, folder, render_missing=images)
    return _write_renderings(story, folder, linked, start)


def write_documents(
    results: Results,
    folder: str | Path,
    figures: str = "png",
    *,
    early: EarlyFigures | None = None,
) -> WrittenReport:
    """The figures (``figures``: png, svg or none) and the report of a run, into ``folder``.

    The charts are built once, for the report's story, and the figures are saved from the
    same specs (the story holds every figure of the run). When the run has more than its two
    RFM figures, worker processes draw them (vl-convert holds the GIL): they start their
    renderers while the story is built, and draw while ``report.html`` and ``report.md`` are
    written here; ``report.md`` links the figures (none with ``figures="none"``). ``early``:
    the figures drawn while the run went on (``custlens.report.early_figures``); those with the
    story's spec are copied, the others drawn.
    """
    folder = Path(folder)
    start = time.perf_counter()
    if early is not None and early.fmt != figures:
        early = None
    if figures == "none":
        story = build_story(results)
        return _write_renderings(
            story, folder, chart_images(story, folder, render_missing=False), start
        )
    # a run with only RFM has two figures: not worth starting the worker processes for
    wanted = results.stages and early is None
    drawing = ChartProcesses() if wanted else contextlib.nullcontext()
    with drawing as processes, ThreadPoolExecutor(1) as waiting:
        story = build_story(results)
        specs = {chart.name: chart.spec for chart in story.charts()}
        if early is not None:
            drawn = waiting.submit(early.finish, specs, folder)
        else:
            drawn = waiting.submit(
                figure_files.write_figures,
                results,
                folder,
                figures,
                specs=specs,
                processes=processes,
            )
        images = {name: f"{FIGURES}/{name}.{figures}" for name in specs}
        written = _write_renderings(story, folder, images, start)
        drawn.result()
    return written
