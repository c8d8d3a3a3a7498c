"""Excel workbooks (``.xlsx``, ``.xlsm``, ``.xls``, ``.xlsb``, ``.ods``) through python-calamine.

Calamine parses the workbook in Rust; the cells become Arrow columns (see ``pycolumns``), which
DuckDB then scans in place. With ``sheet=None`` every sheet whose header equals the header of
the largest sheet is concatenated in workbook order (the Online Retail II workbook splits one
table over two sheets); sheets with another header are skipped with a logged note.
"""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

import pyarrow as pa

from custlens.errors import InputError
from custlens.io.pycolumns import cell_text, rows_to_arrow
from custlens.io.text_checks import check_duplicate_names

log = logging.getLogger(__name__)

_TITLE_SAMPLE = 1000  # rows below the first that give the width of the table for the title check


def _header(cells: list[Any]) -> list[str]:
    names = [cell_text(c) or "" for c in cells]
    while names and names[-1] == "":
        names.pop()
    return [n.strip() if n.strip() else f"column_{i + 1}" for i, n in enumerate(names)]


def _filled(cell: Any) -> bool:
    return cell not in ("", None) and not (isinstance(cell, str) and not cell.strip())


def _check_not_a_title(rows: list[list[Any]], where: str) -> None:
    """Refuse a first row that is a title or a merged group header above the column names
    (``Customer info`` over ``customer_id``, ``segment``): it leaves columns that hold data
    unnamed, and the row below it names every column with text. Read as the header, it would
    drop or misname those columns and make the real names a row of data."""
    width = max(
        (i + 1 for r in rows[1:_TITLE_SAMPLE] for i, c in enumerate(r) if _filled(c)), default=0
    )
    first, second = rows[0], rows[1] if len(rows) > 1 else []
    unnamed = [i for i in range(width) if i >= len(first) or not _filled(first[i])]
    names = second[:width]
    if not unnamed or len(names) < width:
        return
    if not all(isinstance(c, str) and c.strip() for c in names):
        return
    titles = [cell_text(c) for c in first[:width] if _filled(c)]
    raise InputError(
        f"The first row of the sheet looks like a title or a merged group header, not the "
        f"column names: it names {len(titles)} of {width} columns ({titles}), and the row "
        f"below it names every column ({[c.strip() for c in names]})",
        where=f"{where}, first filled row",
        fix="delete the rows above the column names (unmerge their cells) so that the names "
        "are on the first row, or save that table alone as CSV",
    )


def _sheet_rows(workbook: Any, name: str, path: Path) -> tuple[list[str], list[list[Any]]]:
    rows = workbook.get_sheet_by_name(name).to_python(skip_empty_area=True)
    rows = [r for r in rows if any(c not in ("", None) for c in r)]
    if not rows:
        return [], []
    _check_not_a_title(rows, f"{path}, sheet {name!r}")
    header = _header(rows[0])
    width = len(header)
    return header, [r[:width] for r in rows[1:]]


def read_excel(path: Path, sheet: str | None) -> tuple[pa.Table, list[str]]:
    """The chosen sheet(s) of a workbook as one Arrow table, plus notes on skipped sheets."""
    import python_calamine as calamine  # only when a workbook is read

    try:
        workbook = calamine.CalamineWorkbook.from_path(str(path))
    except (calamine.CalamineError, OSError, ValueError) as exc:
        raise InputError(
            f"Cannot open the file as an Excel workbook: {exc}",
            where=str(path),
            fix="check that the file is a valid .xlsx/.xls workbook (re-save it from Excel if needed)",
        ) from None
    names = list(workbook.sheet_names)
    if sheet is not None:
        if sheet not in names:
            raise InputError(
                f"The workbook has no sheet named {sheet!r}; its sheets are {names}",
                where=str(path),
                fix="pass one of those names to --sheet",
            )
        header, rows = _sheet_rows(workbook, sheet, path)
        if not header:
            raise InputError(
                f"Sheet {sheet!r} is empty",
                where=str(path),
                fix="choose a sheet that holds the data with --sheet",
            )
        check_duplicate_names(header, f"{path}, sheet {sheet!r}")
        return rows_to_arrow(header, rows), [f"read sheet {sheet!r} of {path.name}"]

    sheets = {name: _sheet_rows(workbook, name, path) for name in names}
    filled = {n: hr for n, hr in sheets.items() if hr[0]}
    if not filled:
        raise InputError(
            "Every sheet of the workbook is empty",
            where=str(path),
            fix="point custlens at the workbook that holds the data",
        )
    reference = max(filled, key=lambda n: len(filled[n][1]))
    header = filled[reference][0]
    check_duplicate_names(header, f"{path}, sheet {reference!r}")
    used = [n for n in names if n in filled and filled[n][0] == header]
    notes = []
    skipped = [n for n in names if n not in used]
    for n in skipped:
        why = "is empty" if n not in filled else "has a different header"
        log.info("sheet %r of %s %s; skipped", n, path.name, why)
        notes.append(f"sheet {n!r} of {path.name} {why}; skipped (use --sheet to choose one)")
    rows = [r for n in used for r in filled[n][1]]
    notes.insert(0, f"read sheet(s) {used} of {path.name}")
    return rows_to_arrow(header, rows), notes
