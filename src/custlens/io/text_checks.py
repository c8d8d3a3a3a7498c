"""What every text reader (``text_files``, ``text_logs``, ``json_lines``) and the other readers
share: the reader result, encodings, checks of the file and of its column names, and the engine
helpers for a view and its one validation scan."""

from __future__ import annotations

import gzip
import io
import uuid
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import ibis

from custlens.errors import InputError

SUPPORTED_ENCODINGS = {
    "utf-8": "utf-8",
    "utf8": "utf-8",
    "latin-1": "latin-1",
    "latin1": "latin-1",
    "iso-8859-1": "latin-1",
    "utf-16": "utf-16",
}


@dataclass
class TextRead:
    """What a text reader hands back to ``read_table``."""

    table: ibis.Table
    rows: int
    notes: list[str] = field(default_factory=list)


def view_name() -> str:
    return f"custlens_src_{uuid.uuid4().hex[:12]}"


def first_message_lines(exc: Exception, n: int = 3) -> str:
    """The engine's message without the SQL excerpt it appends (``LINE 1: ...`` and a caret)."""
    lines = [ln.strip() for ln in str(exc).splitlines() if ln.strip()]
    lines = [ln for ln in lines if not ln.startswith(("LINE ", "^"))]
    cut = next((i for i, ln in enumerate(lines) if ln.startswith("Possible")), len(lines))
    return " ".join(lines[: min(n, cut)])


def open_text(path: Path, encoding: str) -> io.TextIOBase:
    """The file as text for Python's own reads (header names, first line), decoded as DuckDB
    decodes it: a UTF-8 byte-order mark is dropped, and UTF-16 without a byte-order mark is
    little-endian (Python's incremental UTF-16 decoder refuses such a file)."""
    raw = gzip.open(path, "rb") if path.name.lower().endswith(".gz") else open(path, "rb")  # noqa: SIM115
    py_encoding = "utf-8-sig" if encoding == "utf-8" else encoding
    if encoding == "utf-16" and raw.peek(2)[:2] not in (b"\xff\xfe", b"\xfe\xff"):
        py_encoding = "utf-16-le"
    return io.TextIOWrapper(raw, encoding=py_encoding, errors="replace", newline="")


def _is_blank_file(path: Path) -> bool:
    try:
        opener = gzip.open if path.name.lower().endswith(".gz") else open
        with opener(path, "rb") as fh:
            head = fh.read(65536)
    except EOFError:
        raise truncated_error(path) from None
    except OSError as exc:
        raise InputError(
            f"Cannot read the file: {exc}",
            where=str(path),
            fix="check that the file is complete and not corrupted",
        ) from None
    return head.strip(b" \t\r\n\x00\xef\xbb\xbf") == b""


def check_not_blank(path: Path) -> None:
    if _is_blank_file(path):
        raise InputError(
            "The file is empty (no header and no data rows)",
            where=str(path),
            fix="export the data again, or point custlens at the right file",
        )


def _utf16_without_bom(head: bytes) -> str | None:
    """``"le"`` or ``"be"`` when ``head`` (the first bytes of a file) reads as UTF-16 text of
    the ASCII range without a byte-order mark: a NUL byte at every odd (little-endian) or every
    even (big-endian) offset and none at the others; text in UTF-8 or Latin-1 has no NUL."""
    head = head[: len(head) // 2 * 2]
    if len(head) < 4:
        return None
    even, odd = head[0::2], head[1::2]
    if not odd.strip(b"\0") and b"\0" not in even:
        return "le"
    if not even.strip(b"\0") and b"\0" not in odd:
        return "be"
    return None


def bom_encoding(path: Path) -> str | None:
    """``utf-16`` when the file starts with a little-endian UTF-16 byte-order mark, or with
    little-endian UTF-16 text without one (which DuckDB reads as ``utf-16`` too)."""
    opener = gzip.open if path.name.lower().endswith(".gz") else open
    try:
        with opener(path, "rb") as fh:
            head = fh.read(64)
    except (OSError, EOFError):
        return None
    bare = _utf16_without_bom(head)
    if head[:2] == b"\xfe\xff" or bare == "be":
        raise InputError(
            "The file is UTF-16 big-endian, which the CSV reader does not support",
            where=str(path),
            fix="re-save the file as UTF-8 (or UTF-16 little-endian)",
        )
    return "utf-16" if head[:2] == b"\xff\xfe" or bare == "le" else None


def gzip_truncated(path: Path) -> bool:
    """Whether a .gz file ends before its end-of-stream marker (read through once)."""
    if not path.name.lower().endswith(".gz"):
        return False
    try:
        with gzip.open(path, "rb") as fh:
            while fh.read(1 << 22):
                pass
    except EOFError:
        return True
    except OSError:
        return False
    return False


def truncated_error(path: Path) -> InputError:
    return InputError(
        "The compressed file is truncated: it ends before the end of its gzip stream "
        "(an interrupted download or copy)",
        where=str(path),
        fix="download or copy the file again, completely",
    )


def check_delimiter(delimiter: str | None) -> None:
    if delimiter is None or delimiter in ("\\t", "tab") or len(delimiter) == 1:
        return
    raise InputError(
        f"--delimiter {delimiter!r} is not one character",
        where="--delimiter",
        fix="pass a single character, e.g. --delimiter ';' (or --delimiter tab)",
    )


def check_sql_safe_names(names: list[str], where: str) -> None:
    """Column names with a NUL or other control character are refused, naming them."""
    bad = [n for n in names if any(ord(ch) < 32 and ch != "\t" for ch in n)]
    if bad:
        raise InputError(
            f"Column name(s) {bad} contain a NUL byte or another control character",
            where=where,
            fix="fix the header row of the file (e.g. re-export it), or pass --no-header "
            "with --columns to name the columns yourself",
        )


def normalise_encoding(encoding: str | None) -> str | None:
    if encoding is None:
        return None
    key = encoding.strip().lower().replace("_", "-")
    if key not in SUPPORTED_ENCODINGS:
        raise InputError(
            f"Unsupported encoding {encoding!r}",
            fix=f"use one of {sorted(set(SUPPORTED_ENCODINGS.values()))}, or re-save the file as UTF-8",
        )
    return SUPPORTED_ENCODINGS[key]


def is_unicode_error(exc: Exception) -> bool:
    text = str(exc).lower()
    return "unicode" in text or "utf-8" in text or "utf8" in text


def scan_one(con: Any, sql: str) -> tuple:
    return con.con.execute(sql).fetchall()[0]


def check_duplicate_names(names: list[str], where: str) -> None:
    """Refuse repeated column names, and names that differ only by case or surrounding spaces
    (the engine would rename one of them, and ``--map`` could not find it)."""
    seen: set[str] = set()
    dups = [n for n in names if n in seen or seen.add(n)]  # type: ignore[func-returns-value]
    if dups:
        raise InputError(
            f"The source has duplicate column names: {sorted(set(dups))}",
            where=where,
            fix="rename the columns so that each name appears once",
        )
    groups: dict[str, list[str]] = {}
    for name in names:
        groups.setdefault(name.strip().casefold(), []).append(name)
    clashes = [group for group in groups.values() if len(group) > 1]
    if clashes:
        raise InputError(
            f"The source has column names that differ only by case or spaces: {clashes}",
            where=where,
            fix="rename the columns so that no two names are equal ignoring case and "
            "surrounding spaces",
        )
