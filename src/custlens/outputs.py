"""Atomic output folders, shared by every writer (exports, reports, audits, models).

Everything is written into a hidden staging folder beside the target, which then replaces the
target in two renames; a failure leaves the target as it was. A non-empty target that the caller
does not recognise as its own (``is_ours``) is refused unless ``force=True``.
"""

from __future__ import annotations

import os
import shutil
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

from custlens.errors import OutputError

Ownership = Callable[[Path], bool]


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
def atomic_dir(out: str | Path, *, is_ours: Ownership, force: bool = False) -> Iterator[Path]:
    """Yield a staging folder; on success it replaces ``out``; on failure it is removed."""
    target = check_output_dir(out, is_ours=is_ours, force=force)
    staging = target.parent / f".{target.name}.tmp-{os.getpid()}-{uuid.uuid4().hex[:8]}"
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
        backup = target.parent / f".{target.name}.old-{uuid.uuid4().hex[:8]}"
        if target.exists():
            target.rename(backup)
        staging.rename(target)
        if backup.exists():
            shutil.rmtree(backup, ignore_errors=True)
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise
