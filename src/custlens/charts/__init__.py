"""Chart specs (Altair) built from results, and one helper to save them.

Chart functions take result tables and return an Altair chart, or a plain Vega-Lite spec (a
dict; the RFM charts, so that a run with only RFM never imports Altair); they never compute
models. ``save_chart`` writes PNG, SVG, self-contained HTML or Vega-Lite JSON without a browser
(vl-convert), atomically (temporary file, then rename).
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

__all__ = ["SAVE_FORMATS", "VEGA_LITE_SCHEMA", "save_chart", "vega_lite_version"]

SAVE_FORMATS = (".png", ".svg", ".html", ".json")
# the schema of the plain-dict specs: the one Altair's own specs declare (tests check they agree)
VEGA_LITE_SCHEMA = "https://vega.github.io/schema/vega-lite/v6.4.1.json"
_SCHEMA_VERSION = re.compile(r"/vega-lite/v(\d+)\.(\d+)(?:\.\d+)?\.json$")


def vega_lite_version(spec: Mapping[str, Any]) -> str | None:
    """The Vega-Lite major.minor version a spec declares in ``$schema`` (``"6.4"``), or None."""
    match = _SCHEMA_VERSION.search(str(spec.get("$schema", "")))
    return f"{match.group(1)}.{match.group(2)}" if match else None


def _render(spec: dict, suffix: str, scale: float) -> bytes:
    import vl_convert as vlc

    wanted = vega_lite_version(spec)
    vl_version = wanted if wanted in vlc.get_vegalite_versions() else None
    if suffix == ".png":
        return vlc.vegalite_to_png(spec, vl_version=vl_version, scale=scale)
    if suffix == ".svg":
        return vlc.vegalite_to_svg(spec, vl_version=vl_version).encode("utf-8")
    if suffix == ".html":
        return vlc.vegalite_to_html(spec, vl_version=vl_version, bundle=True).encode("utf-8")
    return json_text(spec, default=None).encode("utf-8")


def save_chart(
    chart: alt.TopLevelMixin | Mapping[str, Any], path: str | Path, *, scale: float = 2.0
) -> Path:
    """Write ``chart`` (an Altair chart or a Vega-Lite spec) to ``path``; the format follows
    the suffix (.png, .svg, .html, .json)."""
    path = Path(path)
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
    spec = chart.to_dict() if hasattr(chart, "to_dict") else dict(chart)
    data = _render(spec, suffix, scale)
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
