"""Draw charts in worker processes, beside the caller's own Python work.

vl-convert (1.9) holds the GIL while it lays a chart out and while it draws the pixels, so a
thread that draws a run's figures takes turns with the thread that writes the report. A worker
process does not: :class:`ChartProcesses` starts a few Python processes (``-P``: the current
folder is not on their path), each of which starts its renderer at once (about 0.4 s of CPU)
and then waits for its share of the charts on its standard input. They are started before the
charts are known (while the report's story is built) and given the charts with
:meth:`ChartProcesses.draw`.

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
import signal
import subprocess
import sys
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
    """``processes`` workers that draw charts; a context manager (the workers end on exit)."""

    def __init__(self, processes: int = 2) -> None:
        count = max(1, min(processes, os.cpu_count() or 1))
        # the workers import the same custlens as this process, wherever it was imported from
        # (its folder goes first on their path only when it is not on it already)
        here = str(Path(__file__).resolve().parents[2])
        code = _WORKER.format(folder=json.dumps(here))
        self._workers: list[subprocess.Popen[bytes] | None] = []
        if getattr(sys, "frozen", False) or not sys.executable:
            # a bundled application: its executable is not a Python interpreter to start
            self._workers = [None] * count
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

    def draw(self, jobs: Sequence[Job], scale: float) -> None:
        """Draw every ``(spec, path, suffix)`` (targets already checked), shared among the
        workers in turn; returns when every file is written. Call once."""
        shares = [list(jobs[i :: len(self._workers)]) for i in range(len(self._workers))]
        for worker, share in zip(self._workers, shares, strict=True):
            if worker is None or worker.stdin is None:
                continue
            charts = [{"spec": spec, "path": str(path), "suffix": sfx} for spec, path, sfx in share]
            try:
                worker.stdin.write(json.dumps({"scale": scale, "charts": charts}).encode())
                worker.stdin.close()
            except OSError:  # the worker has stopped already: its share is drawn below
                pass
        for i, share in enumerate(shares):
            worker, answer, code = self._workers[i], b"", None
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

    def close(self) -> None:
        """Stop the workers that are still running (after an error, or when ``draw`` was not
        called)."""
        for worker in self._workers:
            if worker is not None:
                worker.kill()
                _finish(worker)
        self._workers = [None] * len(self._workers)

    def __enter__(self) -> ChartProcesses:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


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
    """The worker: start the renderer, read the charts from stdin, draw them; on failure, the
    error as JSON on stdout and exit code 1."""
    from custlens.charts import warm_up

    warm_up()
    order = json.loads(sys.stdin.buffer.read().decode("utf-8"))
    charts = [(c["spec"], Path(c["path"]), c["suffix"]) for c in order["charts"]]
    try:
        _draw_here(charts, float(order["scale"]))
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
