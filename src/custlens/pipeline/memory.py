"""How much memory a stage of the run holds: the process's resident set, sampled while it runs.

The process's high-water mark (``getrusage``) only says which stage raised the peak; a stage that
runs after a larger one looks free. :class:`ResidentSampler` reads the resident set size from
``/proc/self/statm`` (Linux) on a daemon thread every ``interval`` seconds (0.2) while a stage runs,
so each stage gets its own maximum, and what it held on entry. Reading the file takes a few
microseconds; the thread sleeps between reads and holds no lock of the run's. Elsewhere (no
``/proc``) it reports nothing.
"""

from __future__ import annotations

import ctypes
import functools
import os
import sys
import threading
from pathlib import Path
from types import TracebackType
from typing import Any

STATM = Path("/proc/self/statm")
MIB = 2**20


def resident_mb() -> float | None:
    """This process's resident set size now, in MiB (None where ``/proc/self/statm`` is absent)."""
    try:
        fields = STATM.read_text().split()
    except OSError:
        return None
    return int(fields[1]) * os.sysconf("SC_PAGE_SIZE") / MIB


def release_free_memory() -> bool:
    """Hand the C heap's free pages back to the operating system (glibc's ``malloc_trim``).

    pandas and NumPy allocate most columns below glibc's mmap threshold (up to 32 MiB), so
    the freed columns of a finished stage stay in the heap, counted as resident, and the next
    stage's peak stacks on top of them. Returns False where there is no glibc."""
    trim = _malloc_trim()
    if trim is None:
        return False
    trim(ctypes.c_size_t(0))
    return True


@functools.cache
def _malloc_trim() -> Any:
    """glibc's ``malloc_trim`` among the symbols already loaded in the process, looked up once
    (None elsewhere: musl, macOS, Windows)."""
    try:
        return ctypes.CDLL(None).malloc_trim
    except (OSError, AttributeError, TypeError):
        return None


def peak_rss_mb() -> float | None:
    """The process's resident-memory high-water mark so far, in MB (None where the platform
    does not report it)."""
    try:
        import resource
    except ImportError:  # pragma: no cover - Windows
        return None
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss  # KB on Linux, bytes on macOS
    return round(peak / (1024 * 1024 if sys.platform == "darwin" else 1024), 1)


class ResidentSampler:
    """Context manager: ``before`` (MiB on entry) and ``max`` (the largest resident set seen
    until exit, entry and exit included), both None where the platform does not report it."""

    def __init__(self, interval: float = 0.2) -> None:
        self.interval = interval
        self.before: float | None = None
        self.max: float | None = None
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def _sample(self) -> None:
        now = resident_mb()
        if now is not None and (self.max is None or now > self.max):
            self.max = now

    def _loop(self) -> None:
        while not self._stop.wait(self.interval):
            self._sample()

    def __enter__(self) -> ResidentSampler:
        self.before = resident_mb()
        self.max = self.before
        if self.before is not None:
            self._thread = threading.Thread(target=self._loop, name="custlens-memory", daemon=True)
            self._thread.start()
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        trace: TracebackType | None,
    ) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join()
        self._sample()
