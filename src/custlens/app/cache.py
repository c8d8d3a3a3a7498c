"""One run per (file hash, settings, reader options), shared by every browser tab.

The Streamlit script keeps a single :class:`RunCache` for the server (``st.cache_resource``), so
reopening a tab, switching pages or running the same file with the same settings again returns
the stored ``Results`` instead of recomputing. Each key is computed once even when two tabs ask
at the same time (a lock per key). The oldest runs are dropped beyond ``max_runs``.
"""

from __future__ import annotations

import hashlib
import json
import threading
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from custlens.config import Settings
    from custlens.io.options import ReadOptions
    from custlens.pipeline import Results


def run_key(file_sha256: str, settings: Settings, read: ReadOptions) -> str:
    """A short, stable key: the file's content hash, every setting and the reader options."""
    payload = json.dumps(
        {
            "sha256": file_sha256,
            "settings": settings.model_dump(mode="json"),
            "read": asdict(read),
        },
        sort_keys=True,
        default=str,
    )
    return hashlib.sha256(payload.encode("utf-8")).hexdigest()[:20]


@dataclass(frozen=True)
class Run:
    """A finished run and what is needed to read its lines again (the order history)."""

    key: str
    results: Results
    source: str | None  # the file the run read (None for a results folder opened directly)
    read: ReadOptions | None
    label: str  # what the user picked: the upload's name, "demo data" or the path
    extras: dict[str, Any] = field(default_factory=dict, compare=False)  # lazily built, by name


class RunCache:
    """Thread-safe store of finished runs, by key."""

    def __init__(self, max_runs: int = 8) -> None:
        self.max_runs = max_runs
        self._runs: OrderedDict[str, Run] = OrderedDict()
        self._lock = threading.Lock()
        self._key_locks: dict[str, threading.Lock] = {}
        self.computed = 0  # how many runs were actually computed (for tests and logs)

    def get(self, key: str) -> Run | None:
        with self._lock:
            run = self._runs.get(key)
            if run is not None:
                self._runs.move_to_end(key)
            return run

    def put(self, run: Run) -> Run:
        with self._lock:
            self._runs[run.key] = run
            self._runs.move_to_end(run.key)
            while len(self._runs) > self.max_runs:
                self._runs.popitem(last=False)
        return run

    def get_or_compute(self, key: str, compute: Callable[[], Run]) -> tuple[Run, bool]:
        """The stored run for ``key``, or ``compute()`` stored; and whether it was computed."""
        with self._lock:
            key_lock = self._key_locks.setdefault(key, threading.Lock())
        with key_lock:
            found = self.get(key)
            if found is not None:
                return found, False
            run = compute()
            with self._lock:
                self.computed += 1
            return self.put(run), True

    def extra(self, run: Run, name: str, build: Callable[[], Any]) -> Any:
        """Something derived from a run once (a results folder, the order-history reader)."""
        with self._lock:
            key_lock = self._key_locks.setdefault(f"{run.key}:{name}", threading.Lock())
        with key_lock:
            if name not in run.extras:
                run.extras[name] = build()
            return run.extras[name]
