"""What the app lets people download: CRM lists, the results folder as a zip, the HTML report.

The folder is the one ``custlens run`` writes (``custlens.exports.write_results``, figures
included), written once per run into the server's work folder; a folder opened with
``custlens app DIR`` is zipped as it is.
"""

from __future__ import annotations

import io
import zipfile
from pathlib import Path
from typing import TYPE_CHECKING

from custlens.exports import crm_list, csv_bytes, segment_slug, write_results

if TYPE_CHECKING:
    from custlens.pipeline import Results

REPORT_HTML = "report.html"


def crm_csv(results: Results, segment: str) -> tuple[str, bytes]:
    """File name and CSV bytes of one segment's CRM list (as in ``segments/<slug>.csv``)."""
    return f"{segment_slug(segment)}.csv", csv_bytes(crm_list(results.customers, segment))


def write_folder(
    results: Results, target: Path, *, figures: bool = True, origin: str | None = None
) -> Path:
    """Write the run's results folder (as ``custlens run --out`` would, report included) and
    return it. ``origin``: the source as the user knows it (an upload's name), written in
    ``run.json`` and the report instead of the server's private copy of it."""
    import dataclasses

    from custlens.report.write import write_documents

    if origin is not None and origin != results.source.origin:
        source = dataclasses.replace(results.source, origin=origin)
        results = dataclasses.replace(results, source=source)

    def extra(folder: Path) -> None:
        write_documents(results, folder, "png" if figures else "none")

    return write_results(results, target, force=True, extra=extra)


def zip_folder(folder: Path) -> bytes:
    """Every file of ``folder``, zipped under the folder's name."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", compression=zipfile.ZIP_DEFLATED, compresslevel=6) as zf:
        for path in sorted(folder.rglob("*")):
            if path.is_file():
                zf.write(path, Path(folder.name) / path.relative_to(folder))
    return buffer.getvalue()


def report_html(folder: Path | None) -> bytes | None:
    """The folder's ``report.html`` (every folder the app writes has one; an old folder opened
    with ``custlens app DIR`` may not)."""
    if folder is None:
        return None
    path = folder / REPORT_HTML
    return path.read_bytes() if path.is_file() else None
