r"""Data text made safe for the Markdown files custlens writes (``report.md``, ``audit.md``,
``profile.md``): the one place that escapes it.

Text that comes from the data (column names, category values, segment and persona names, file
names, and the notes, rules and conclusions that quote them) goes through one of these before it
is put into Markdown:

- ``md_text``: plain text on one line. Runs of whitespace (newlines included) become one space;
  other control characters (e.g. a terminal's escape sequences) become U+FFFD; ``&``, ``<`` and
  ``>`` become HTML entities, so no raw HTML, autolink or entity reaches a viewer; the markup
  characters ``\ ` * [ ] { } | ~`` get a backslash, and so does a ``_`` that is not between
  two letters or digits, so the text opens no emphasis, link, image or code span and a ``|``
  cannot split a table cell; at the start a heading or list marker (``#``, ``-``, ``+``,
  ``1.``) is escaped too.
- ``md_code``: the same text shown as a code span, whatever backticks it holds.
- ``md_table``: a GitHub-flavoured table whose header and body cells all pass through
  ``md_text``, so every row has as many cells as the header.

>>> print(md_text("a|b\n<script>alert(1)</script> & `x`"))
a\|b &lt;script&gt;alert(1)&lt;/script&gt; &amp; \`x\`
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import pandas as pd

__all__ = ["format_cell", "md_code", "md_table", "md_text"]

# always escaped: backslash, code span, emphasis, link/image brackets, table cell, strikethrough,
# attribute braces (kramdown)
_MARKUP = re.compile(r"([\\`*\[\]{}|~])")
# ``_`` opens no emphasis between two letters or digits (``total_spend``): escaped elsewhere only
_UNDERSCORE = re.compile(r"(?<![^\W_])_|_(?![^\W_])")
# what starts a heading or a list item at the start of a line (escaped only there)
_LINE_START = re.compile(r"^(#{1,6}|[-+]|\d{1,9}[.)])(?= |$)")
# control characters other than whitespace (whitespace is collapsed first): C0, DEL and C1
_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f]")
_ENTITIES = {"&": "&amp;", "<": "&lt;", ">": "&gt;"}
_HTML = re.compile(r"[&<>]")


def _one_line(text: object) -> str:
    return _CONTROL.sub("\ufffd", " ".join(str(text).split()))


def md_text(text: object) -> str:
    r"""``text`` as one line of plain Markdown text: no markup, no raw HTML, no line break.

    >>> print(md_text("Edu|cation_top"))
    Edu\|cation_top
    >>> print(md_text("- _first_\nsecond"))
    \- \_first\_ second
    """
    line = _MARKUP.sub(r"\\\1", _one_line(text))
    line = _UNDERSCORE.sub(r"\\_", line)
    line = _HTML.sub(lambda m: _ENTITIES[m.group()], line)
    return _LINE_START.sub(_escape_marker, line)


def _escape_marker(match: re.Match[str]) -> str:
    marker = match.group()  # "1." -> "1\." (a backslash before a digit is shown, not an escape)
    return f"{marker[:-1]}\\{marker[-1]}" if marker[0].isdigit() else f"\\{marker}"


def md_code(text: object) -> str:
    """``text`` as an inline code span (one line; a fence longer than any run of backticks in
    it, padded when the text starts or ends with one). For prose, not table cells.

    >>> md_code("customer_id")
    '`customer_id`'
    >>> md_code("a`b")
    '``a`b``'
    """
    line = _one_line(text)
    if not line:
        return ""
    fence = "`" * (max((len(r) for r in re.findall(r"`+", line)), default=0) + 1)
    pad = " " if line.startswith("`") or line.endswith("`") else ""
    return f"{fence}{pad}{line}{pad}{fence}"


def format_cell(value: object) -> str:
    """A table value as text: ``yes``/``no``, no digits of noise, empty for a missing value."""
    if isinstance(value, bool):
        return "yes" if value else "no"
    if value is None or type(value).__name__ in ("NAType", "NaTType"):  # pandas' missing
        return ""
    if isinstance(value, float):
        if math.isnan(value):
            return ""
        if value != 0 and (abs(value) < 0.001 or abs(value) >= 1e6):
            return f"{value:.2e}"
        return f"{value:.3f}".rstrip("0").rstrip(".") if abs(value) < 100 else f"{value:,.1f}"
    return str(value)


def md_table(
    df: pd.DataFrame,
    columns: list[str] | None = None,
    *,
    cell: Callable[[str, object], str] | None = None,
    empty: str = "_(empty)_",
) -> str:
    r"""A GitHub-flavoured Markdown table of ``df`` (only ``columns``, in that order, when
    given); ``cell(column, value)`` formats a value (default: ``format_cell``). The header and
    every cell go through ``md_text``.

    >>> import pandas as pd
    >>> print(md_table(pd.DataFrame({"a|b": ["x|y"], "n": [0.5]})))
    | a\|b | n |
    |---|---|
    | x\|y | 0.5 |
    """
    if columns is not None:
        df = df[[c for c in columns if c in df.columns]]
    if df.empty:
        return empty
    fmt = cell or (lambda _column, value: format_cell(value))
    names = [str(c) for c in df.columns]
    head = "| " + " | ".join(md_text(c) for c in names) + " |"
    sep = "|" + "|".join("---" for _ in names) + "|"
    body = [
        "| " + " | ".join(md_text(fmt(c, v)) for c, v in zip(names, row, strict=True)) + " |"
        for row in df.itertuples(index=False, name=None)
    ]
    return "\n".join([head, sep, *body])
