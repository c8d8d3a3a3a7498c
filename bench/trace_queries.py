"""Run ``custlens`` in this process and print every slow engine call with its wall time and caller.

    python bench/trace_queries.py run FILE --analyses rfm --figures none --out DIR --force
    QMIN=0.3 python bench/trace_queries.py run FILE --out DIR --force --quiet
    MEM=100 FUNCS=custlens.segment.clustering:PersonaClusterer.fit \\
        python bench/trace_queries.py run FILE --analyses personas --out DIR --force --quiet

The Ibis DuckDB backend's ``to_pyarrow``, ``execute``, ``to_parquet``, ``raw_sql``,
``_create_cached_table`` (``.cache()``) and ``create_table`` are wrapped; each call that takes
longer than ``QMIN`` seconds (default 0.1) prints ``[q] seconds method caller`` on stderr, the
caller being the innermost three custlens frames (function:line). Nested calls print too (a
``to_parquet`` runs a ``raw_sql``). For finding which query of which stage the time goes to; the
run's own timings are in its ``run.json``.

``MEM=N`` (MiB) also samples the resident set during each call (every 0.05 s) and prints
``[m] MiB-on-entry max +MiB after +MiB seconds name caller`` for the calls that raise it by more
than N, at the end of the call; ``FUNCS`` (comma-separated ``module:attribute``, e.g.
``custlens.anomalies.orders:extreme_orders`` or ``module:Class.method``) wraps custlens functions
too. A function imported by name before the run starts keeps its unwrapped copy: wrap the
functions the stages import when they run.
"""

from __future__ import annotations

import functools
import importlib
import os
import sys
import time
import traceback
from collections.abc import Callable
from typing import Any

import ibis.backends.duckdb as duckdb_backend

from custlens.pipeline.memory import ResidentSampler, resident_mb

METHODS = (
    "_create_cached_table",
    "create_table",
    "raw_sql",
    "execute",
    "to_pyarrow",
    "to_parquet",
)


def _caller() -> str:
    frames = [
        f
        for f in traceback.extract_stack()[:-2]
        if "custlens" in f.filename and "trace_queries" not in f.filename
    ]
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


def _measured(name: str, function: Callable[..., Any], threshold: float) -> Callable[..., Any]:
    @functools.wraps(function)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        start = time.perf_counter()
        with ResidentSampler(0.05) as seen:
            out = function(*args, **kwargs)
        after = resident_mb()
        if seen.before is None or seen.max is None or after is None:
            return out  # no /proc: nothing to say
        if max(seen.max, after) - seen.before > threshold:
            print(
                f"[m] {seen.before:7.0f} max {seen.max - seen.before:+7.0f} after "
                f"{after - seen.before:+7.0f} {time.perf_counter() - start:6.1f}s {name} "
                f"{_caller()}",
                file=sys.stderr,
                flush=True,
            )
        return out

    return wrapper


def _wrap_functions(specs: str, threshold: float) -> None:
    for spec in filter(None, (s.strip() for s in specs.split(","))):
        module, _, attribute = spec.partition(":")
        owner: Any = importlib.import_module(module)
        *path, last = attribute.split(".")
        for part in path:
            owner = getattr(owner, part)
        setattr(owner, last, _measured(spec, getattr(owner, last), threshold))


def main() -> None:
    threshold = float(os.environ.get("QMIN", "0.1"))
    memory = os.environ.get("MEM")
    backend = duckdb_backend.Backend
    for name in METHODS:
        method = _timed(name, getattr(backend, name), threshold)
        if memory:
            method = _measured(f"duckdb.{name}", method, float(memory))
        setattr(backend, name, method)
    if memory:
        _wrap_functions(os.environ.get("FUNCS", ""), float(memory))
    from custlens.cli import main as cli

    sys.argv = ["custlens", *sys.argv[1:]]
    cli()


if __name__ == "__main__":
    main()
