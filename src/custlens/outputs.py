"""Atomic output folders and files, shared by every writer (exports, reports, audits, data).

Everything is written into a hidden staging folder beside the target, which then replaces the
target in two renames; a failure leaves the target as it was. A non-empty target that the caller
does not recognise as its own (``is_ours``) is refused unless ``force=True``. Single files
(figures, generated data) go through ``atomic_file``: a temporary file beside the target, then
a rename.

CSV files meant for people go through ``spreadsheet_safe``: a text cell that begins with ``=``,
``+``, ``-``, ``@``, a tab or a carriage return gets a leading single quote, so that Excel,
LibreOffice and Google Sheets show it as text instead of evaluating it as a formula (the OWASP
rule against CSV injection). A cell that is a plain number (``-42``, ``+1.5``, ``-3e5``: a sign,
digits, at most one point and an exponent) is left as it is: a spreadsheet reads it as that
number, nothing in it can be a formula, and a quote would change ids such as ``-42`` that the
file is read back by. Parquet files keep every value exactly. Every JSON file is strict
(``json_text``: non-finite numbers become ``null``, never bare ``NaN``/``Infinity``).

A staging folder or temporary file left by a process that was killed (``SIGKILL``, power loss)
is removed by the next write beside it once its process no longer exists.

Outputs follow the user's umask like any file a program creates (0644 files and 0755 folders
under umask 022): nothing custlens writes is secret. ``tempfile.mkstemp``/``mkdtemp`` are not
used for outputs because they create 0600 files and 0700 folders, which a rename would keep.
"""

from __future__ import annotations

import json
import math
import os
import re
import shutil
import uuid
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import pandas as pd

from custlens.errors import OutputError

Ownership = Callable[[Path], bool]

FORMULA_PREFIXES = ("=", "+", "-", "@", "\t", "\r")
# a signed plain number: no operator, reference or function can follow the sign
_SIGNED_NUMBER = r"[-+](?:\d+\.?\d*|\.\d+)(?:[eE][-+]?\d+)?"
_SIGNED_NUMBER_RE = re.compile(_SIGNED_NUMBER)


def _formula_like(value: str) -> bool:
    return value.startswith(FORMULA_PREFIXES) and _SIGNED_NUMBER_RE.fullmatch(value) is None


def spreadsheet_safe_text(value: Any) -> Any:
    """A text cell a spreadsheet would read as a formula, made inert with a leading quote.

    >>> [spreadsheet_safe_text(v) for v in ("=1+1", "-2+3", "@SUM(A1)", "Anna", 5, "-42")]
    ["'=1+1", "'-2+3", "'@SUM(A1)", 'Anna', 5, '-42']
    """
    if isinstance(value, str) and _formula_like(value):
        return "'" + value
    return value


def spreadsheet_safe(df: pd.DataFrame) -> pd.DataFrame:
    """``df`` with every text cell (and text column name) passed through
    ``spreadsheet_safe_text``; numbers, dates and the frame given are unchanged."""
    import pandas as pd

    out = df.copy(deep=False)
    for i in range(df.shape[1]):
        series = df.iloc[:, i]
        if isinstance(series.dtype, pd.CategoricalDtype):
            out.isetitem(i, series.cat.rename_categories(spreadsheet_safe_text))
            continue
        if isinstance(series.dtype, pd.StringDtype):  # every cell text or NA: vectorized
            mask = series.str.startswith(FORMULA_PREFIXES, na=False).astype(bool)
            if bool(mask.any()):
                number = series.str.fullmatch(_SIGNED_NUMBER, na=False).astype(bool)
                mask = mask & ~number
        elif series.dtype == object:  # mixed cells: only the text ones are guarded
            mask = series.map(lambda v: isinstance(v, str) and _formula_like(v))
        else:
            continue
        if bool(mask.any()):
            out.isetitem(i, series.where(~mask, "'" + series.astype("object").where(mask, "")))
    out.columns = [spreadsheet_safe_text(str(c)) for c in df.columns]
    return out


def _finite(value: Any) -> Any:
    if isinstance(value, float):
        return value if math.isfinite(value) else None
    if isinstance(value, dict):
        return {str(k): _finite(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_finite(v) for v in value]
    if hasattr(value, "item") and callable(value.item) and getattr(value, "ndim", 1) == 0:
        return _finite(value.item())  # numpy scalars
    return value


def json_text(data: Any, *, default: Callable[[Any], Any] | None = str) -> str:
    """Strict JSON (RFC 8259) with a final newline: NaN and infinities become ``null``.

    >>> print(json_text({"a": float("nan"), "b": float("inf")}, default=None), end="")
    {
      "a": null,
      "b": null
    }
    """
    return json.dumps(_finite(data), indent=2, default=default, allow_nan=False) + "\n"


def check_not_overlapping(out: str | Path, inputs: Iterable[str | Path], *, what: str) -> None:
    """Refuse an output folder that holds (or lies inside) an input: replacing the folder would
    delete the input (``--out res`` with ``res/new_orders.csv``, or models read from it)."""
    target = Path(out).expanduser().resolve()
    for item in inputs:
        path = Path(item).expanduser()
        if not path.exists():
            continue
        path = path.resolve()
        if path == target or target in path.parents or path in target.parents:
            raise OutputError(
                f"The output folder {str(target)!r} would replace {what} {str(path)!r}",
                where=str(target),
                fix="choose an --out folder outside the input files and the models folder "
                "(e.g. a new folder beside it)",
            )


_STALE = re.compile(  # staging folders, backups, temporary files, model folders being saved
    r"^\..+\.(?:tmp|old)-(\d+)-[0-9a-f]{8}$|^\..+\.(\d+)-[0-9a-f]{8}\.tmp$"
    r"|^\..+\.saving-(\d+)-\w{8}$"
)


def _alive(pid: int) -> bool:
    if pid == os.getpid():
        return True
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except OSError:  # e.g. another user's process: leave its files alone
        return True
    return True


def private_temp_dir(prefix: str) -> str:
    """A private working folder ``$TMPDIR/<prefix><pid>-<random>`` (``mkdtemp``: it is not an
    output); such folders of processes that no longer exist are removed first."""
    import tempfile

    root = Path(tempfile.gettempdir())
    try:
        entries = [e for e in root.iterdir() if e.name.startswith(prefix)]
    except OSError:
        entries = []
    for entry in entries:
        pid = entry.name[len(prefix) :].split("-", 1)[0]
        if pid.isdigit() and not _alive(int(pid)) and entry.is_dir() and not entry.is_symlink():
            shutil.rmtree(entry, ignore_errors=True)
    return tempfile.mkdtemp(prefix=f"{prefix}{os.getpid()}-")


def remove_stale(folder: Path) -> list[Path]:
    """Remove staging folders and temporary files that custlens processes which no longer
    exist left in ``folder`` (a kill during the write phase); return what was removed."""
    removed: list[Path] = []
    try:
        entries = list(folder.iterdir())
    except OSError:
        return removed
    for entry in entries:
        match = _STALE.match(entry.name)
        if match is None:
            continue
        pid = int(next(g for g in match.groups() if g))
        if _alive(pid):
            continue
        if entry.is_dir() and not entry.is_symlink():
            shutil.rmtree(entry, ignore_errors=True)
        else:
            entry.unlink(missing_ok=True)
        removed.append(entry)
    return removed


def check_output_dir(out: str | Path, *, is_ours: Ownership, force: bool = False) -> Path:
    """Refuse an unusable target before any work is done; return it resolved."""
    target = Path(out).expanduser().resolve()
    if target.exists() and not target.is_dir():
        raise OutputError(
            f"The output path {str(target)!r} is a file, not a folder",
            where=str(target),
            fix="pass a folder path to --out",
        )
    if target.is_dir() and any(target.iterdir()) and not force and not is_ours(target):
        raise OutputError(
            f"The output folder {str(target)!r} is not empty and was not written by custlens",
            where=str(target),
            fix="choose an empty or new folder, or pass --force to replace its contents",
        )
    parent = target.parent
    while not parent.exists():
        parent = parent.parent
    if not parent.is_dir() or not os.access(parent, os.W_OK | os.X_OK):
        raise OutputError(
            f"Cannot create or write the output folder {str(target)!r}",
            where=str(parent),
            fix="choose a location you can write to",
        )
    return target


@contextmanager
def atomic_file(path: str | Path) -> Iterator[Path]:
    """Yield a new, empty temporary file beside ``path``; on success it replaces ``path``.

    The temporary file is created exclusively (never an existing file or a link) with the
    permissions ``open()`` gives a new file (0666 less the umask); on failure it is removed.
    """
    path = Path(path)
    remove_stale(path.parent)
    flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_BINARY", 0)
    while True:
        tmp = path.with_name(f".{path.name}.{os.getpid()}-{uuid.uuid4().hex[:8]}.tmp")
        try:
            os.close(os.open(tmp, flags, 0o666))
            break
        except FileExistsError:  # pragma: no cover - a 32-bit random name already taken
            continue
    try:
        yield tmp
        os.replace(tmp, path)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise


@contextmanager
def atomic_dir(out: str | Path, *, is_ours: Ownership, force: bool = False) -> Iterator[Path]:
    """Yield a staging folder; on success it replaces ``out``; on failure it is removed."""
    target = check_output_dir(out, is_ours=is_ours, force=force)
    staging = target.parent / f".{target.name}.tmp-{os.getpid()}-{uuid.uuid4().hex[:8]}"
    remove_stale(target.parent)
    try:
        target.parent.mkdir(parents=True, exist_ok=True)
        staging.mkdir()  # unlike mkdtemp, honours the umask: the folder is renamed into place
    except OSError as exc:
        raise OutputError(
            f"Cannot create the output folder {str(target)!r}: {exc.strerror or exc}",
            where=str(target),
            fix="choose a location you can write to",
        ) from None
    try:
        yield staging
        backup = target.parent / f".{target.name}.old-{os.getpid()}-{uuid.uuid4().hex[:8]}"
        if target.exists():
            target.rename(backup)
        staging.rename(target)
        if backup.exists():
            shutil.rmtree(backup, ignore_errors=True)
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise
