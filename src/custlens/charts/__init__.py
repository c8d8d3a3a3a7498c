"""Chart specs (Altair) built from results, and helpers to save them.

Chart functions take result tables and return an Altair chart, or a plain Vega-Lite spec (a
dict; the RFM charts, so that a run with only RFM never imports Altair); they never compute
models.
``save_chart`` writes PNG, SVG, self-contained HTML or Vega-Lite JSON without a browser
(vl-convert), atomically (temporary file, then rename); ``save_charts`` writes many at once.

vl-convert (1.9) holds the GIL while it lays a chart out and while it draws the pixels, so
threads draw no faster than one (measured: 25 figures of Online Retail, 2.0 s of layout and
1.3 s of pixels, and a Python thread beside them ran at 8 % of its speed). ``save_charts``
draws in the calling process, or in worker processes when given a
:class:`~custlens.charts.processes.ChartProcesses` (a run's report does: its figures are drawn
while the report is written). Each file's bytes do not depend on the process or the order.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

from custlens.errors import OutputError
from custlens.outputs import atomic_file, json_text

if TYPE_CHECKING:
    import altair as alt

    from custlens.charts.processes import ChartProcesses

__all__ = [
    "MAX_ROWS",
    "NAME_PX",
    "SAVE_FORMATS",
    "VEGA_LITE_SCHEMA",
    "WORDS",
    "chart_spec",
    "save_chart",
    "save_charts",
    "vega_lite_version",
    "warm_up",
    "write_chart_file",
]

SAVE_FORMATS = (".png", ".svg", ".html", ".json")
# Altair's default data transformer refuses a dataset of more rows (MaxRowsError in to_dict):
# a chart whose rows grow with the data (the length of the history, the customers) keeps to it
# and says in its title what it shows
MAX_ROWS = 5000
# names of columns and kinds read as words on the axes ("recency_days" -> "recency days");
# tooltips and the data keep the names
WORDS = "replace(datum.label, /_/g, ' ')"
# labels that are names (personas, basket rules) drawn whole up to this many pixels; Vega cuts
# axis labels at 180 and legend labels at 160 ("Large-Basket, Off-Season Custo…")
NAME_PX = 480
# the schema of the plain-dict specs: the one Altair's own specs declare (tests check they agree)
VEGA_LITE_SCHEMA = "https://vega.github.io/schema/vega-lite/v6.4.1.json"
_SCHEMA_VERSION = re.compile(r"/vega-lite/v(\d+)\.(\d+)(?:\.\d+)?\.json$")


def vega_lite_version(spec: Mapping[str, Any]) -> str | None:
    """The Vega-Lite major.minor version a spec declares in ``$schema`` (``"6.4"``), or None."""
    match = _SCHEMA_VERSION.search(str(spec.get("$schema", "")))
    return f"{match.group(1)}.{match.group(2)}" if match else None


def chart_spec(chart: alt.TopLevelMixin | Mapping[str, Any]) -> dict[str, Any]:
    """The Vega-Lite spec of an Altair chart (schema-checked), or a spec dict as it is."""
    if isinstance(chart, Mapping):
        return dict(chart)
    return chart.to_dict()


def _render(spec: dict[str, Any], suffix: str, scale: float) -> bytes:
    import vl_convert as vlc

    wanted = vega_lite_version(spec)
    vl_version = wanted if wanted in vlc.get_vegalite_versions() else None
    if suffix == ".png":
        # the same bytes as vegalite_to_png, but the pixels are drawn outside the JS worker
        svg = vlc.vegalite_to_svg(spec, vl_version=vl_version)
        return vlc.svg_to_png(svg, scale=scale)
    if suffix == ".svg":
        return vlc.vegalite_to_svg(spec, vl_version=vl_version).encode("utf-8")
    if suffix == ".html":
        return vlc.vegalite_to_html(spec, vl_version=vl_version, bundle=True).encode("utf-8")
    return json_text(spec, default=None).encode("utf-8")


# One bar with an axis title: starting vl-convert's worker, Vega-Lite and both font databases
# (text measuring and drawing) takes about 0.4 s of CPU, once per process.
_WARM_UP = {
    "data": {"values": [{"x": "a", "y": 1}]},
    "mark": "bar",
    "encoding": {
        "x": {"field": "x", "type": "nominal"},
        "y": {"field": "y", "type": "quantitative"},
    },
}


def warm_up() -> None:
    """Start the renderer (vl-convert's JavaScript worker, fonts) by drawing a tiny chart.

    Called on a thread while other work holds the GIL, the start-up costs no wall time later.
    """
    _render(_WARM_UP, ".png", 1.0)


def _check_target(path: Path) -> str:
    suffix = path.suffix.lower()
    if suffix not in SAVE_FORMATS:
        raise OutputError(
            f"Cannot save a chart as {suffix or 'a file without suffix'!r}",
            where=str(path),
            fix="use one of " + ", ".join(SAVE_FORMATS),
        )
    if not path.parent.is_dir():
        raise OutputError(
            "The chart's folder does not exist",
            where=str(path.parent),
            fix="create the folder first or choose another output path",
        )
    return suffix


def _write(spec: dict[str, Any], path: Path, suffix: str, scale: float) -> Path:
    return write_chart_file(_render(spec, suffix, scale), path)


def write_chart_file(data: bytes, path: Path) -> Path:
    """Write a drawn chart's bytes to ``path`` atomically; an OutputError when it cannot."""
    try:
        with atomic_file(path) as tmp:  # mode 0666 less the umask, like the other outputs
            tmp.write_bytes(data)
    except OSError as exc:
        raise OutputError(
            f"Cannot write the chart: {exc.strerror or exc}",
            where=str(path),
            fix="check the folder's permissions and free space, or choose another path",
        ) from None
    return path


def save_chart(
    chart: alt.TopLevelMixin | Mapping[str, Any], path: str | Path, *, scale: float = 2.0
) -> Path:
    """Write ``chart`` (an Altair chart or its Vega-Lite spec) to ``path``; the format follows
    the suffix (.png, .svg, .html, .json)."""
    path = Path(path)
    suffix = _check_target(path)
    return _write(chart_spec(chart), path, suffix, scale)


def save_charts(
    charts: Mapping[Path, alt.TopLevelMixin | Mapping[str, Any]],
    *,
    scale: float = 2.0,
    processes: ChartProcesses | None = None,
) -> list[Path]:
    """Write every ``path -> chart`` (as :func:`save_chart`); return the paths in the order
    given. Every target is checked before anything is rendered. ``processes``: draw in those
    worker processes instead of this one (see :mod:`custlens.charts.processes`)."""
    jobs = [(chart_spec(chart), Path(path)) for path, chart in charts.items()]
    suffixes = [_check_target(path) for _, path in jobs]
    if processes is not None:
        processes.draw([(s, p, x) for (s, p), x in zip(jobs, suffixes, strict=True)], scale)
        return [p for _, p in jobs]
    return [_write(spec, p, x, scale) for (spec, p), x in zip(jobs, suffixes, strict=True)]
