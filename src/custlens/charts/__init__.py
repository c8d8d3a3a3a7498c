"""Chart specs (Altair) built from results, and one helper to save them.

Chart functions take result tables and return an Altair chart; they never compute models.
``save_chart`` writes PNG, SVG, self-contained HTML or Vega-Lite JSON without a browser
(vl-convert), atomically (temporary file, then rename).
"""

from __future__ import annotations

from pathlib import Path

import altair as alt

from custlens.errors import OutputError
from custlens.outputs import atomic_file, json_text

__all__ = ["SAVE_FORMATS", "save_chart"]

SAVE_FORMATS = (".png", ".svg", ".html", ".json")


def _render(spec: dict, suffix: str, scale: float) -> bytes:
    import vl_convert as vlc

    wanted = alt.SCHEMA_VERSION.lstrip("v").rsplit(".", 1)[0]  # "v6.4.1" -> "6.4"
    vl_version = wanted if wanted in vlc.get_vegalite_versions() else None
    if suffix == ".png":
        return vlc.vegalite_to_png(spec, vl_version=vl_version, scale=scale)
    if suffix == ".svg":
        return vlc.vegalite_to_svg(spec, vl_version=vl_version).encode("utf-8")
    if suffix == ".html":
        return vlc.vegalite_to_html(spec, vl_version=vl_version, bundle=True).encode("utf-8")
    return json_text(spec, default=None).encode("utf-8")


def save_chart(chart: alt.TopLevelMixin, path: str | Path, *, scale: float = 2.0) -> Path:
    """Write ``chart`` to ``path``; the format follows the suffix (.png, .svg, .html, .json)."""
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
    data = _render(chart.to_dict(), suffix, scale)
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
