"""Where the app's data come from: an upload, the built-in demo data or a path on the server.

Every source becomes a :class:`DataFile` on the server's disk with its content hash, so the
readers of :mod:`custlens.io` read it like any file (large files passed as a path are read where
they lie, never copied through the browser).
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from custlens.errors import InputError
from custlens.io.options import ReadOptions
from custlens.io.readers import (
    DELIMITED,
    EXCEL,
    JSON_LINES,
    PARQUET,
    TEXT_LOGS,
    file_sha256,
    read_table,
)

# every single-file format custlens reads (database files need a table name: given at start)
UPLOAD_TYPES = tuple(
    s.lstrip(".") for s in (*DELIMITED, *TEXT_LOGS, *JSON_LINES, ".json", *EXCEL, *PARQUET, ".gz")
)
DEMO_CUSTOMERS = 2000
PREVIEW_ROWS = 10
_MB = 1024 * 1024


def size_text(size: int) -> str:
    """A file's size for reading, as the browser's uploader shows it: "48.9 KB", not "0.0 MB"."""
    for unit, scale in (("GB", 1e9), ("MB", 1e6), ("KB", 1e3)):
        if size >= scale:
            return f"{size / scale:,.1f} {unit}"
    return f"{size:,} bytes"


@dataclass(frozen=True)
class DataFile:
    """A data file on the server: where it is, what to call it and its content hash."""

    path: Path
    label: str
    sha256: str
    size: int
    kind: str  # "upload" | "demo" | "path"

    def private_names(self) -> dict[str, str]:
        """The file's path on the server -> what the user calls it (an upload's name, "demo
        data"), for messages; a path given at start is the user's own and stays."""
        return {} if self.kind == "path" else {str(self.path): self.label}


def upload_limit_error(name: str, size: int, limit_mb: int) -> InputError:
    return InputError(
        f"The file is {size / _MB:,.0f} MB, over the app's upload limit of {limit_mb} MB",
        where=name,
        fix=(
            "start the app with the file's path, which reads it where it lies: "
            f"custlens app {_quote(name)} (or raise max_upload_mb under [app] in custlens.toml "
            "and start the app again)"
        ),
    )


def _quote(name: str) -> str:
    return name if re.fullmatch(r"[\w./-]+", name) else f'"{name}"'


NAME_LIMIT = 120  # characters of an upload's name kept on disk


def _safe_name(name: str) -> str:
    """The upload's own name (its suffixes tell the reader the format), made file-system safe;
    a long name is shortened before its suffixes, which are kept."""
    safe = re.sub(r"[^\w.\-]+", "_", Path(name).name) or "upload"
    if len(safe) <= NAME_LIMIT:
        return safe
    suffix = "".join(Path(safe).suffixes[-2:])[-20:]  # .csv, .csv.gz, .xlsx...
    return safe[: NAME_LIMIT - len(suffix)] + suffix


def save_upload(name: str, data: bytes, workdir: Path, *, limit_mb: int) -> DataFile:
    """Store an uploaded file in ``workdir`` (once per content), refusing files over the limit."""
    if len(data) > limit_mb * _MB:
        raise upload_limit_error(name, len(data), limit_mb)
    sha = hashlib.sha256(data).hexdigest()
    folder = workdir / "uploads" / sha[:20]
    path = folder / _safe_name(name)
    if not path.is_file() or path.stat().st_size != len(data):
        folder.mkdir(parents=True, exist_ok=True)
        tmp = path.with_name(path.name + ".part")
        tmp.write_bytes(data)
        tmp.replace(path)
    return DataFile(path, name, sha, len(data), "upload")


def from_path(path: str | Path) -> DataFile:
    """A file passed on the command line, read where it lies."""
    p = Path(path).expanduser().resolve()
    if not p.is_file():
        raise InputError(
            "The file does not exist" if not p.exists() else "The path is not a file",
            where=str(p),
            fix="pass the path of a data file (or of a custlens results folder) to custlens app",
        )
    return DataFile(p, str(p), file_sha256(p), p.stat().st_size, "path")


def demo(workdir: Path, customers: int = DEMO_CUSTOMERS, seed: int = 0) -> DataFile:
    """The built-in synthetic order log (Online Retail layout), written once per server."""
    from custlens.datasets import write_synthetic

    path = workdir / "demo" / f"orders-{customers}-{seed}.parquet"
    if not path.is_file():
        path.parent.mkdir(parents=True, exist_ok=True)
        write_synthetic(path, customers, seed=seed)
    return DataFile(
        path, f"demo data ({customers:,} customers)", file_sha256(path), path.stat().st_size, "demo"
    )


def preview(file: DataFile, read: ReadOptions, rows: int = PREVIEW_ROWS) -> pd.DataFrame:
    """The first rows of the file as read (source column names, text as in the file)."""
    raw = read_table(file.path, ReadOptions(**{**read.__dict__, "date_format": None}))
    return raw.table.limit(rows).to_pandas()
