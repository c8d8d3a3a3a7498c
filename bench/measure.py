"""Shared benchmark helpers: run a command N times in fresh processes; report median and peak RSS."""

from __future__ import annotations

import os
import statistics
import subprocess
import sys
import time
from dataclasses import dataclass


@dataclass
class Measurement:
    label: str
    seconds: list[float]
    peak_rss_mb: float
    cpu_seconds: list[float] | None = None  # user + system time of each run (all its threads)

    @property
    def median(self) -> float:
        return statistics.median(self.seconds)

    def row(self) -> str:
        runs = ", ".join(f"{s:.2f}" for s in self.seconds)
        cpu = f"{statistics.median(self.cpu_seconds):.2f}" if self.cpu_seconds else ""
        return f"| {self.label} | {self.median:.2f} | {self.peak_rss_mb:,.0f} | {runs} | {cpu} |"


# CPU seconds (user + system) change less than wall time when other work shares the cores
HEADER = "| what | median s | peak RSS MB | runs (s) | median CPU s |\n|---|---|---|---|---|"


def measure(label: str, argv: list[str], repeats: int, env: dict | None = None) -> Measurement:
    """Wall time and peak RSS of ``argv``, each repeat in a new process (wait4 gives its rusage)."""
    seconds, cpu, peak = [], [], 0
    for _ in range(repeats):
        start = time.perf_counter()
        proc = subprocess.Popen(
            argv, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, env=env or os.environ.copy()
        )
        _, status, usage = os.wait4(proc.pid, 0)
        elapsed = time.perf_counter() - start
        if os.waitstatus_to_exitcode(status) != 0:
            err = proc.stderr.read().decode(errors="replace") if proc.stderr else ""
            sys.exit(f"{label} failed:\n{err}")
        seconds.append(elapsed)
        cpu.append(usage.ru_utime + usage.ru_stime)
        peak = max(peak, usage.ru_maxrss)  # kilobytes on Linux
    return Measurement(label, seconds, peak / 1024, cpu)


def python(code: str) -> list[str]:
    return [sys.executable, "-c", code]
