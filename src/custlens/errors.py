"""One error family for everything a user can get wrong.

Every error says *what* is wrong, *where* (file, column, row, value) and *how to fix it*.
The CLI prints ``str(err)`` and exits with code 2; it never shows a traceback for these.
"""

from __future__ import annotations

from collections.abc import Iterator


class CustlensError(Exception):
    """Base class: a problem with the user's input, configuration or environment."""

    exit_code = 2

    def __init__(self, what: str, *, where: str | None = None, fix: str | None = None) -> None:
        self.what = what
        self.where = where
        self.fix = fix
        super().__init__(self._compose())

    def _compose(self) -> str:
        parts = [self.what.rstrip(".") + "."]
        if self.where:
            parts.append(f"Where: {self.where}.")
        if self.fix:
            parts.append(f"Fix: {self.fix.rstrip('.')}.")
        return "\n".join(parts)


class InputError(CustlensError):
    """The source cannot be read or its values cannot be understood."""


class MappingError(CustlensError):
    """The source's columns cannot be mapped onto custlens's canonical columns."""


class ConfigError(CustlensError):
    """A setting, flag or config file is invalid."""


class DataError(CustlensError):
    """The data were read but cannot support the requested analysis (e.g. nothing left)."""


class OutputError(CustlensError):
    """The output location cannot be written or is not ours to overwrite."""


class ModelError(CustlensError):
    """A saved model cannot be loaded or used (version, schema, tampering)."""


class NotFittedError(ModelError):
    """An estimator was used (predict, transform, score) before ``fit``."""


class ResourceError(CustlensError):
    """The machine ran out of something the run needs (disk space for working files, or the
    engine's memory under its cap)."""


def exception_chain(exc: BaseException | None) -> Iterator[BaseException]:
    """``exc`` and the exceptions behind it (``raise ... from`` or raised while handling),
    each once."""
    seen: set[int] = set()
    while exc is not None and id(exc) not in seen:
        seen.add(id(exc))
        yield exc
        exc = exc.__cause__ or exc.__context__


def out_of_disk_space(exc: BaseException) -> bool:
    """True when ``exc`` or an exception behind it says the disk is full (``ENOSPC``; DuckDB
    reports it as an ``IOException`` whose message ends "No space left on device")."""
    return any(_disk_itself(e) for e in exception_chain(exc))


def out_of_memory(exc: BaseException) -> bool:
    """True when ``exc`` or an exception behind it says the engine ran out of memory (DuckDB's
    ``OutOfMemoryException``, raised when a query needs more than its ``memory_limit`` and
    cannot spill the rest) or Python could not allocate (``MemoryError``)."""
    return any(_memory_itself(e) for e in exception_chain(exc))


def out_of_resources(exc: BaseException) -> bool:
    """True when ``exc`` or an exception behind it says the disk is full or memory ran out:
    readers re-raise those as they are instead of calling the file unreadable."""
    return out_of_disk_space(exc) or out_of_memory(exc)


def resource_error(
    exc: BaseException, *, doing: str, output: str | None = None
) -> ResourceError | None:
    """The :class:`ResourceError` for ``exc`` (what ran out, where, how to fix it), or None
    when neither the disk nor the memory ran out. ``doing``: what was running ("the run", "the
    profile"); ``output``: the folder or file being written, named with the working folder
    when the disk is full."""
    if out_of_disk_space(exc):
        import tempfile

        written = f" or the output {output}" if output else ""
        return ResourceError(
            f"The disk ran out of space during {doing} ({_message_line(exc) or 'no space left'})",
            where=f"working folder {tempfile.gettempdir()} (TMPDIR){written}",
            fix="free some disk space, or set TMPDIR to a folder on a disk with more room "
            "(custlens keeps working copies of the data there, and DuckDB writes there what "
            "does not fit under CUSTLENS_MEMORY_LIMIT), then try again",
        )
    if out_of_memory(exc):
        import os

        cap = os.environ.get("CUSTLENS_MEMORY_LIMIT")
        return ResourceError(
            f"The engine ran out of memory during {doing} "
            f"({_message_line(exc, first=True) or 'out of memory'})",
            where=f"CUSTLENS_MEMORY_LIMIT={cap}"
            if cap
            else "the engine's memory cap (a quarter of the machine's memory)",
            fix="set CUSTLENS_MEMORY_LIMIT higher (e.g. 4GB) or CUSTLENS_THREADS=1 (each "
            "engine thread needs working memory of its own), then try again",
        )
    return None


def _message_line(exc: BaseException, *, first: bool = False) -> str:
    """``Class: line of the message`` of the exception in ``exc``'s chain that ran out:
    the last line (DuckDB's disk errors end with their details) or the first (its memory
    errors start with them, then list remedies)."""
    culprit = next((e for e in exception_chain(exc) if _disk_itself(e) or _memory_itself(e)), exc)
    lines = str(culprit).strip().splitlines()
    return f"{culprit.__class__.__name__}: {lines[0 if first else -1]}" if lines else ""


def _memory_itself(exc: BaseException) -> bool:
    return isinstance(exc, MemoryError) or type(exc).__name__ == "OutOfMemoryException"


def _disk_itself(exc: BaseException) -> bool:
    import errno

    return (
        isinstance(exc, OSError) and exc.errno == errno.ENOSPC
    ) or "No space left on device" in str(exc)
