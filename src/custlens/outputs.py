"""Atomic output folders and files, shared by every writer (exports, reports, audits, data).

Everything is written into a hidden staging folder beside the target, which then replaces the
target in two renames; a failure leaves the target as it was. A non-empty target that the caller
does not recognise as its own (``is_ours``) is refused unless ``force=True``. Single files
(figures, generated data) go through ``atomic_file``: a temporary file beside the target, then
a rename.

Outputs follow the user's umask like any file a program creates (0644 files and 0755 folders
under umask 022): nothing custlens writes is secret. ``tempfile.mkstemp``/``mkdtemp`` are not
used for outputs because they create 0600 files and 0700 folders, which a rename would keep.
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
def atomic_file(path: str | Path) -> Iterator[Path]:
    """Yield a new, empty temporary file beside ``path``; on success it replaces ``path``.

    The temporary file is created exclusively (never an existing file or a link) with the
    permissions ``open()`` gives a new file (0666 less the umask); on failure it is removed.
    """
    path = Path(path)
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
