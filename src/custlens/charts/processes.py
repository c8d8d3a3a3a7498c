"""Draw charts in worker processes, beside the caller's own Python work.

vl-convert (1.9) holds the GIL while it lays a chart out and while it draws the pixels, so a
thread that draws a run's figures takes turns with the thread that writes the report. A worker
process does not: :class:`ChartProcesses` starts a few Python processes (``-P``: the current
folder is not on their path), each of which starts its renderer at once (about 0.4 s of CPU)
and then draws its share of the charts as they come on its standard input (one JSON line
each). They are started before the charts are known and given them with
:meth:`ChartProcesses.submit` (a run gives each stage's charts when the stage ends:
:mod:`custlens.report.early_figures`) or all at once with :meth:`ChartProcesses.draw`.

Each file is written atomically by the same code as :func:`custlens.charts.save_chart`, so its
bytes do not depend on the process that drew it. An error of the drawing code (a folder that
cannot be written, for one) comes back as the same :class:`~custlens.errors.OutputError`. When a
worker cannot start or stops without saying why, the charts it was given are drawn in the
calling process instead (and a log line says so); one stopped by Ctrl-C or SIGTERM is an error
(the run is being stopped: nothing is drawn again).
"""

from __future__ import annotations

import contextlib
import json
import logging
import os
import queue
import signal
import subprocess
import sys
import threading
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from custlens.errors import OutputError

log = logging.getLogger(__name__)

Job = tuple[dict[str, Any], Path, str]  # a chart's Vega-Lite spec, its file, the file's suffix
_STOPPED = (signal.SIGINT, signal.SIGTERM)
_WORKER = """import sys
folder = {folder}
if folder not in sys.path:
    sys.path.insert(0, folder)
from custlens.charts.processes import _serve
sys.exit(_serve())
"""


class ChartProcesses:
    """``processes`` workers that draw charts; a context manager (the workers end on exit).

    Charts are given with :meth:`submit`, as many times as they become known (a run gives each
    stage's charts when the stage ends, while the next one runs), and :meth:`wait` returns when
    every file is written; :meth:`draw` does both for one batch. A writer thread per worker
    feeds its pipe, so ``submit`` never waits for a worker that is drawing."""

    def __init__(self, processes: int = 2) -> None:
        count = max(1, min(processes, os.cpu_count() or 1))
        # the workers import the same custlens as this process, wherever it was imported from
        # (its folder goes first on their path only when it is not on it already)
        here = str(Path(__file__).resolve().parents[2])
        code = _WORKER.format(folder=json.dumps(here))
        self._workers: list[subprocess.Popen[bytes] | None] = []
        self._shares: list[list[Job]] = [[] for _ in range(count)]
        self._scale: float | None = None
        self._given = 0
        self._feeds: list[_Feed | None] = []
        if getattr(sys, "frozen", False) or not sys.executable:
            # a bundled application: its executable is not a Python interpreter to start
            self._workers = [None] * count
            self._feeds = [None] * count
            return
        for _ in range(count):
            try:
                worker: subprocess.Popen[bytes] | None = subprocess.Popen(
                    [sys.executable, "-P", "-c", code],
                    stdin=subprocess.PIPE,
                    stdout=subprocess.PIPE,
                    stderr=subprocess.DEVNULL,
                )
            except OSError as exc:
                log.info("no chart process (%s); its charts are drawn in this process", exc)
                worker = None
            self._workers.append(worker)
            self._feeds.append(None if worker is None else _Feed(worker))

    def submit(self, jobs: Sequence[Job], scale: float) -> None:
        """Give the workers more ``(spec, path, suffix)`` (targets already checked), in turn;
        returns at once. Every call of one set of workers draws at the same ``scale``."""
        if self._scale is not None and scale != self._scale:
            raise ValueError(f"charts at scale {scale} after charts at scale {self._scale}")
        self._scale = scale
        for job in jobs:
            i = self._given % len(self._workers)
            self._given += 1
            self._shares[i].append(job)
            feed = self._feeds[i]
            if feed is not None:
                spec, path, suffix = job
                line = {"spec": spec, "path": str(path), "suffix": suffix, "scale": scale}
                feed.put(json.dumps(line).encode() + b"\n")

    def wait(self) -> None:
        """Return when every chart given is written (the workers then end). Charts of a worker
        that could not start or stopped without saying why are drawn in this process."""
        scale = 2.0 if self._scale is None else self._scale
        for i, share in enumerate(self._shares):
            worker, feed, answer, code = self._workers[i], self._feeds[i], b"", None
            if feed is not None:
                feed.close()
                self._feeds[i] = None
            if worker is not None:
                answer, code = _finish(worker)
                self._workers[i] = None
            if code == 0:
                continue
            reply = _reply(answer)
            if reply is not None:
                raise OutputError(reply["what"], where=reply["where"], fix=reply["fix"])
            if code is not None and -code in _STOPPED:  # Ctrl-C or a stop request: no fallback
                raise OutputError(
                    f"The process drawing the figures was stopped ({signal.Signals(-code).name})",
                    where="the report's figures",
                    fix="run again; --figures none skips the figures",
                )
            if code is not None:  # a worker that never started was logged when it failed
                log.info("a chart process stopped (exit code %s); its charts are drawn here", code)
            _draw_here(share, scale)

    def draw(self, jobs: Sequence[Job], scale: float) -> None:
        """Draw every ``(spec, path, suffix)`` (targets already checked), shared among the
        workers in turn; returns when every file is written. Call once."""
        self.submit(jobs, scale)
        self.wait()

    def close(self) -> None:
        """Stop the workers that are still running (after an error, or when ``wait`` was not
        called)."""
        for i, worker in enumerate(self._workers):
            if worker is not None:
                worker.kill()
            feed = self._feeds[i]
            if feed is not None:  # its writes fail now: the thread ends
                feed.close()
            if worker is not None:
                _finish(worker)
        self._workers = [None] * len(self._workers)
        self._feeds = [None] * len(self._feeds)

    def __enter__(self) -> ChartProcesses:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


class _Feed:
    """A thread that writes lines to a worker's standard input in the order given, and closes
    it after the last one (a worker that stopped makes the rest go nowhere)."""

    def __init__(self, worker: subprocess.Popen[bytes]) -> None:
        self._pipe = worker.stdin
        self._lines: queue.SimpleQueue[bytes | None] = queue.SimpleQueue()
        self._thread = threading.Thread(target=self._write, name="custlens-chart-feed", daemon=True)
        self._thread.start()

    def put(self, line: bytes) -> None:
        self._lines.put(line)

    def close(self) -> None:
        """Close the pipe once every line given is written (or cannot be)."""
        self._lines.put(None)
        self._thread.join()

    def _write(self) -> None:
        pipe, broken = self._pipe, False
        while (line := self._lines.get()) is not None:
            if pipe is None or broken:
                continue
            try:
                pipe.write(line)
                pipe.flush()
            except OSError:  # the worker has stopped: its share is drawn by the caller
                broken = True
        if pipe is not None:
            with contextlib.suppress(OSError):
                pipe.close()


def _finish(worker: subprocess.Popen[bytes]) -> tuple[bytes, int]:
    """What the worker wrote on stdout and its exit code, its pipes closed."""
    answer = worker.stdout.read() if worker.stdout is not None else b""
    for pipe in (worker.stdin, worker.stdout):
        if pipe is not None:
            with contextlib.suppress(OSError):  # stdin may hold what a stopped worker never read
                pipe.close()
    return answer, worker.wait()


def _reply(answer: bytes) -> dict[str, Any] | None:
    try:
        reply = json.loads(answer.decode("utf-8"))
    except ValueError:  # UnicodeDecodeError included
        return None
    keys = {"what", "where", "fix"}
    return reply if isinstance(reply, dict) and keys <= reply.keys() else None


def _draw_here(share: Sequence[Job], scale: float) -> None:
    from custlens.charts import _write

    for spec, path, suffix in share:
        _write(spec, path, suffix, scale)


def _serve() -> int:
    """The worker: start the renderer, then draw each chart read from stdin (one JSON line per
    chart) until it closes; on failure, the error as JSON on stdout and exit code 1."""
    from custlens.charts import warm_up

    warm_up()
    try:
        for line in sys.stdin.buffer:
            if line.strip():
                order = json.loads(line.decode("utf-8"))
                job = (order["spec"], Path(order["path"]), order["suffix"])
                _draw_here([job], float(order["scale"]))
    except OutputError as exc:
        reply = {"what": exc.what, "where": exc.where, "fix": exc.fix}
    except Exception as exc:  # noqa: BLE001 - reported as an error of the run, not a traceback
        reply = {
            "what": f"Cannot draw a chart: {type(exc).__name__}: {exc}",
            "where": "the report's figures",
            "fix": "run again with --figures none to skip the figures, and report this error",
        }
    else:
        return 0
    sys.stdout.write(json.dumps(reply))
    return 1
