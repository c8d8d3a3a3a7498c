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
    import errno

    return any(
        (isinstance(e, OSError) and e.errno == errno.ENOSPC) or "No space left on device" in str(e)
        for e in exception_chain(exc)
    )


def out_of_memory(exc: BaseException) -> bool:
    """True when ``exc`` or an exception behind it says the engine ran out of memory (DuckDB's
    ``OutOfMemoryException``, raised when a query needs more than its ``memory_limit`` and
    cannot spill the rest) or Python could not allocate (``MemoryError``)."""
    return any(
        isinstance(e, MemoryError) or type(e).__name__ == "OutOfMemoryException"
        for e in exception_chain(exc)
    )
