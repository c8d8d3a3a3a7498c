"""Every figure of a run, as Altair specs, and saving them beside the results tables."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

from custlens.charts import save_charts
from custlens.charts.rfm import rfm_grid_chart, segment_share_chart
from custlens.pipeline import Results

if TYPE_CHECKING:
    import altair as alt

    from custlens.charts.processes import ChartProcesses

FIGURE_FORMATS = ("png", "svg")


def rfm_charts(results: Results) -> dict[str, Any]:
    """Name -> spec (plain dicts) of the two RFM figures every run has."""
    return {
        "segments": segment_share_chart(results.segment_summary),
        "rfm_grid": rfm_grid_chart(results.customers),
    }


def _charts(results: Results) -> dict[str, Any]:
    """Name -> chart: the RFM specs (plain dicts), then each stage's Altair charts."""
    charts = rfm_charts(results)
    for result in results.stages.values():
        charts.update(result.charts(results))
    return charts


def figures(results: Results) -> dict[str, alt.TopLevelMixin]:
    """Name -> chart: the RFM charts, then each stage's (charts never compute models)."""
    import altair as alt

    return {  # the RFM specs are plain dicts: validated here
        name: chart if hasattr(chart, "to_dict") else alt.Chart.from_dict(chart)
        for name, chart in _charts(results).items()
    }


def write_figures(
    results: Results,
    folder: Path,
    fmt: str = "png",
    *,
    specs: Mapping[str, Mapping[str, Any]] | None = None,
    processes: ChartProcesses | None = None,
) -> list[Path]:
    """Save every figure as ``folder/figures/<name>.<fmt>``; return the paths (a run with only
    RFM does not import Altair for its two figures).

    ``specs`` (name -> Vega-Lite spec, e.g. the report story's charts, which are the same
    figures) saves building the charts a second time; ``processes`` draw them (see
    :func:`custlens.charts.save_charts`).
    """
    out = Path(folder) / "figures"
    out.mkdir(parents=True, exist_ok=True)
    charts = specs if specs is not None else _charts(results)
    paths = {out / f"{name}.{fmt}": chart for name, chart in charts.items()}
    return save_charts(paths, processes=processes)
