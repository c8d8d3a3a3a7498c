"""The HTML renderer: one self-contained offline file from a ``Story``.

Jinja2 with autoescape renders every text; chart specs go into ``<script type="application/json">``
blocks with ``<``, ``>`` and ``&`` escaped, and one Vega bundle (from vl-convert, installed
locally; never fetched) draws them all. A Content-Security-Policy forbids every network request.
"""

from __future__ import annotations

import functools
import json
import logging
import math
import os
import tempfile
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from importlib import metadata
from numbers import Number
from pathlib import Path
from typing import Any

import pandas as pd
from jinja2 import Environment, PackageLoader, StrictUndefined
from markupsafe import Markup

from custlens.charts import vega_lite_version
from custlens.story import Bullets, Cards, Chart, Findings, Links, Paragraph, Story, Table

log = logging.getLogger(__name__)

_KINDS = {
    Cards: "cards",
    Findings: "findings",
    Bullets: "bullets",
    Paragraph: "paragraph",
    Links: "links",
    Chart: "chart",
    Table: "table",
}


def script_json(data: Any) -> Markup:
    """JSON safe inside a ``<script>`` element: ``<``, ``>``, ``&`` and line separators escaped."""
    text = json.dumps(data, default=str, allow_nan=False, separators=(",", ":"))
    for char, escaped in (("<", "\\u003c"), (">", "\\u003e"), ("&", "\\u0026")):
        text = text.replace(char, escaped)
    return Markup(text.replace("\u2028", "\\u2028").replace("\u2029", "\\u2029"))


def vl_version(specs: Iterable[Mapping[str, Any]] = ()) -> str | None:
    """The newest Vega-Lite version the specs declare, when vl-convert has it (else None:
    vl-convert's default). Read from the specs, so that a report never imports Altair."""
    import vl_convert as vlc

    available = vlc.get_vegalite_versions()
    declared = {v for v in map(vega_lite_version, specs) if v in available}
    return max(declared, key=lambda v: tuple(map(int, v.split(".")))) if declared else None


def _cache_dir() -> Path:
    env = os.environ.get("CUSTLENS_CACHE_DIR")
    if env:
        return Path(env)
    base = os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache"
    return Path(base) / "custlens"


@functools.lru_cache(maxsize=2)
def vega_bundle(version: str | None = None) -> str:
    """Vega, Vega-Lite and vega-embed as one script, from the installed vl-convert.

    Bundling takes several seconds, so the result is kept in the user cache folder
    (``$CUSTLENS_CACHE_DIR``, else ``~/.cache/custlens``), keyed by the vl-convert and Vega-Lite
    versions; when that folder is not writable the bundle is simply rebuilt each time.
    ``version``: the Vega-Lite version (``vl_version`` of the charts); None: vl-convert's default.
    """
    import vl_convert as vlc

    vlc_version = metadata.version("vl-convert-python")
    path = _cache_dir() / f"vega-bundle-{vlc_version}-{version or 'default'}.js"
    try:
        return path.read_text(encoding="utf-8")
    except OSError:
        pass
    # no snippet: the default one puts vegaEmbed, vegaLite and vega on the window
    bundle = vlc.javascript_bundle(None, vl_version=version)  # type: ignore[arg-type]
    bundle = bundle.replace("</script", "<\\/script").replace("<!--", "<\\!--")
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(prefix=".bundle.", dir=path.parent)
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            fh.write(bundle)
        os.replace(tmp, path)
    except OSError as exc:  # a read-only home: rebuild next time
        log.info("could not cache the Vega bundle in %s: %s", path.parent, exc)
    return bundle


@dataclass(frozen=True)
class _Cell:
    text: str
    sort: float | None


@dataclass(frozen=True)
class _Column:
    name: str
    numeric: bool


def format_value(value: Any, percent: bool = False) -> tuple[str, float | None]:
    """A cell's text and its numeric sort key (None for text)."""
    if value is None or (isinstance(value, float) and math.isnan(value)) or value is pd.NaT:
        return "", None
    if isinstance(value, bool):
        return ("yes" if value else "no"), None
    if isinstance(value, pd.Timestamp):
        text = (
            value.strftime("%Y-%m-%d %H:%M")
            if (value.hour or value.minute)
            else value.strftime("%Y-%m-%d")
        )
        return text, value.timestamp()
    if isinstance(value, Number):
        number = float(value)  # type: ignore[arg-type]  # numpy scalars too
        if percent:
            return f"{number:.1%}", number
        if float(number).is_integer() and abs(number) < 1e15:
            return f"{int(number):,}", number
        if abs(number) >= 100:
            return f"{number:,.0f}", number
        return f"{number:,.3g}" if abs(number) < 0.01 else f"{number:,.2f}", number
    try:
        if pd.isna(value):
            return "", None
    except (TypeError, ValueError):
        pass
    return str(value), None


def table_view(table: Table) -> dict[str, Any]:
    frame = table.frame
    columns = [
        _Column(
            str(c).replace("_", " "),
            pd.api.types.is_numeric_dtype(frame[c]) and not pd.api.types.is_bool_dtype(frame[c]),
        )
        for c in frame.columns
    ]
    percent = set(table.percent)
    rows = [
        [
            _Cell(*format_value(v, str(c) in percent))
            for c, v in zip(frame.columns, row, strict=True)
        ]
        for row in frame.itertuples(index=False, name=None)
    ]
    return {"columns": columns, "rows": rows}


@functools.lru_cache(maxsize=1)
def _environment() -> Environment:
    return Environment(
        loader=PackageLoader("custlens.report", "templates"),
        autoescape=True,  # every template, including .j2: data are always escaped
        undefined=StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )


def render_html(story: Story, *, bundle: str | None = None) -> str:
    """The report as one HTML document (``bundle``: the Vega script; default: installed one)."""
    from custlens import __version__

    charts: list[dict[str, Any]] = []
    blocks: dict[str, list[tuple[str, Any, Any]]] = {}
    for section in story.sections:
        view = []
        for block in section.blocks:
            kind = _KINDS[type(block)]
            extra: Any = None
            if isinstance(block, Chart):
                extra = f"chart-{len(charts) + 1}-{_id(block.name)}"
                charts.append({"id": extra, "json": script_json(block.spec)})
            elif isinstance(block, Table):
                extra = table_view(block)
            view.append((kind, block, extra))
        blocks[section.id] = view
    template = _environment().get_template("report.html.j2")
    return template.render(
        story=story,
        blocks=blocks,
        charts=charts,
        bundle=Markup(
            bundle
            if bundle is not None
            else vega_bundle(vl_version(c.spec for c in story.charts()))
        ),
        version=__version__,
    )


def _id(name: str) -> str:
    return "".join(c if c.isalnum() else "-" for c in name)[:40]
