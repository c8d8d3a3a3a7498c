"""Library warnings and custlens's own warnings become notes of the run, not lines on stderr.

A successful run must print nothing a user would read as a failure. While a part of the run
works (loading and cleaning, each stage, writing the figures and the report),
:func:`routed_warnings` records

- Python warnings (numpy overflow, scipy ``ConstantInputWarning``, scikit-learn convergence
  ...): one note each, in words a user understands, with the library's text in brackets;
- warnings logged by custlens's modules (``logging.getLogger("custlens...")``): one note each.
  They still reach the handlers an application configured; without any, Python would print
  them on stderr.

The notes go into ``run.json`` and the CLI summary. Deprecation and future warnings are about
the code, not the data: they are re-emitted as they were, to be fixed where they arise
(``tests/hardening/test_quiet_success.py`` runs the CLI and fails on any line on stderr).
"""

from __future__ import annotations

import logging
import warnings
from collections.abc import Iterator
from contextlib import contextmanager

__all__ = ["WARNING_MARK", "routed_warnings", "warning_note"]

WARNING_MARK = "warning:"  # in every note made here, so that the CLI summary shows them
_FOR_DEVELOPERS = (DeprecationWarning, PendingDeprecationWarning, FutureWarning)

log = logging.getLogger(__name__)


def warning_note(stage: str, caught: warnings.WarningMessage) -> str:
    """A library warning in words a user understands.

    >>> import warnings
    >>> w = warnings.WarningMessage(RuntimeWarning("overflow encountered in exp"),
    ...                             RuntimeWarning, "x.py", 1)
    >>> warning_note("predictions", w)  # doctest: +NORMALIZE_WHITESPACE
    'predictions warning: a calculation overflowed or divided by zero; the values affected
    were left out (RuntimeWarning: overflow encountered in exp)'
    """
    message = str(caught.message).strip()
    text = message.splitlines()[0] if message else ""
    kind = caught.category.__name__
    lower = text.lower()
    if "hessian" in lower or "converge" in lower or "Convergence" in kind:
        meaning = "a model fit did not converge cleanly; its estimates are less certain"
    elif "ConstantInput" in kind or "constant" in lower:
        meaning = "a correlation could not be computed because one input was constant"
    elif "overflow" in lower or "divide" in lower or "invalid value" in lower:
        meaning = "a calculation overflowed or divided by zero; the values affected were left out"
    else:
        meaning = "a library reported a warning"
    return f"{stage} {WARNING_MARK} {meaning} ({kind}: {text[:160]})"


class _Recorder(logging.Handler):
    """Keeps the warnings logged under ``custlens`` while a part of the run works."""

    def __init__(self) -> None:
        super().__init__(logging.WARNING)
        self.messages: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        try:
            self.messages.append(record.getMessage())
        except Exception:  # a malformed log call must not stop the run  # noqa: BLE001
            self.handleError(record)


@contextmanager
def routed_warnings(stage: str, notes: list[str]) -> Iterator[None]:
    """Record the warnings raised or logged inside the block as notes of ``stage``.

    A logged message that an existing note already holds (stages often log what they also
    return as a note) is not repeated.

    >>> import logging, warnings
    >>> notes = ["predictions: BTYD not fitted: too few repeat customers"]
    >>> with routed_warnings("predictions", notes):
    ...     warnings.warn("x is constant", UserWarning)
    ...     logging.getLogger("custlens.models").warning("BTYD not fitted: too few repeat customers")
    ...     logging.getLogger("custlens.models").warning("a bound was reached")
    >>> notes[1:]  # doctest: +NORMALIZE_WHITESPACE
    ['predictions warning: a correlation could not be computed because one input was constant
      (UserWarning: x is constant)', 'predictions warning: a bound was reached']
    """
    recorder = _Recorder()
    package = logging.getLogger("custlens")
    package.addHandler(recorder)
    try:
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            yield
    finally:
        package.removeHandler(recorder)
    new: list[str] = []
    for item in caught:
        if issubclass(item.category, _FOR_DEVELOPERS):  # not about the data: as they were
            warnings.warn_explicit(item.message, item.category, item.filename, item.lineno)
            continue
        new.append(warning_note(stage, item))
    for message in recorder.messages:
        if not any(message in note for note in notes):
            new.append(f"{stage} {WARNING_MARK} {message}")
    for note in dict.fromkeys(new):
        if note not in notes:
            notes.append(note)
            log.info("%s", note)
