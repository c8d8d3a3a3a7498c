"""Run ``custlens`` in this process and print every slow engine call with its wall time and caller.

    python bench/trace_queries.py run FILE --analyses rfm --figures none --out DIR --force
    QMIN=0.3 python bench/trace_queries.py run FILE --out DIR --force --quiet

The Ibis DuckDB backend's ``to_pyarrow``, ``execute``, ``to_parquet``, ``raw_sql``,
``_create_cached_table`` (``.cache()``) and ``create_table`` are wrapped; each call that takes
longer than ``QMIN`` seconds (default 0.1) prints ``[q] seconds method caller`` on stderr, the
caller being the innermost three custlens frames (function:line). Nested calls print too (a
``to_parquet`` runs a ``raw_sql``). For finding which query of which stage the time goes to; the
run's own timings are in its ``run.json``.
"""

from __future__ import annotations

import functools
import os
import sys
import time
import traceback
from collections.abc import Callable
from typing import Any

import ibis.backends.duckdb as duckdb_backend

METHODS = (
    "_create_cached_table",
    "create_table",
    "raw_sql",
    "execute",
    "to_pyarrow",
    "to_parquet",
)


def _caller() -> str:
    frames = [f for f in traceback.extract_stack()[:-2] if "custlens" in f.filename]
    return " < ".join(f"{f.name}:{f.lineno}" for f in frames[-3:][::-1])


def _timed(name: str, method: Callable[..., Any], threshold: float) -> Callable[..., Any]:
    @functools.wraps(method)
    def wrapper(self: Any, *args: Any, **kwargs: Any) -> Any:
        start = time.perf_counter()
        try:
            return method(self, *args, **kwargs)
        finally:
            took = time.perf_counter() - start
            if took > threshold:
                sql = str(args[0])[:80].replace("\n", " ") if name == "raw_sql" and args else ""
                print(f"[q] {took:7.2f}s {name:20s} {_caller()} {sql}", file=sys.stderr, flush=True)

    return wrapper


def main() -> None:
    threshold = float(os.environ.get("QMIN", "0.1"))
    backend = duckdb_backend.Backend
    for name in METHODS:
        setattr(backend, name, _timed(name, getattr(backend, name), threshold))
    from custlens.cli import main as cli

    sys.argv = ["custlens", *sys.argv[1:]]
    cli()


if __name__ == "__main__":
    main()
