"""Progress bars that move: DuckDB's running-query progress, the CLI's stage lines, and the
pipeline handing its engine to the display."""

from __future__ import annotations

import io
import threading
import time
from pathlib import Path
from types import SimpleNamespace

import ibis
import pandas as pd
import pytest
from rich.console import Console

import custlens
from custlens.cli import console as cli_console
from custlens.io.progress import query_progress


def _poll_while(probe, work) -> list[float | None]:
    seen: list[float | None] = []
    done = threading.Event()

    def poll() -> None:
        while not done.is_set():
            seen.append(probe())
            time.sleep(0.01)

    thread = threading.Thread(target=poll)
    thread.start()
    try:
        work()
    finally:
        done.set()
        thread.join()
    return seen


def test_query_progress_follows_a_running_duckdb_query(tmp_path):
    con = ibis.duckdb.connect()
    path = tmp_path / "lines.parquet"
    con.raw_sql(
        f"COPY (SELECT range AS k, range % 100003 AS v FROM range(6000000)) "
        f"TO '{path}' (ROW_GROUP_SIZE 50000)"
    )
    probe = query_progress(con)
    assert probe is not None
    assert probe() is None  # nothing running
    query = f"SELECT count(DISTINCT v), sum(k) FROM read_parquet('{path}')"
    seen = _poll_while(probe, lambda: con.raw_sql(query).fetchall())
    values = [v for v in seen if v is not None]
    assert values, "no progress reported while the query ran"
    assert all(0 < v <= 100 for v in values)
    assert values == sorted(values)  # a scan only moves forward
    assert probe() is None  # finished


def test_engines_without_progress_report_none():
    class Other:
        name = "pyspark"

    assert query_progress(Other()) is None


def _display(monkeypatch, probe):
    monkeypatch.setattr(cli_console.StageProgress, "POLL_SECONDS", 0.02)
    monkeypatch.setattr("custlens.io.progress.query_progress", lambda con: probe)
    buffer = io.StringIO()
    screen = Console(file=buffer, force_terminal=True, width=100, color_system=None)
    return buffer, screen


def test_stage_line_shows_the_running_query_percentage(monkeypatch):
    buffer, screen = _display(monkeypatch, lambda: 37.0)
    with cli_console.stage_progress(True, console=screen) as display:
        display.watch(object())
        display("load", "start")
        time.sleep(0.3)
        display("load", "end")
    text = buffer.getvalue()
    assert "37%" in text
    assert "100%" in text  # the finished stage


def test_stage_line_pulses_without_a_percentage_between_queries(monkeypatch):
    buffer, screen = _display(monkeypatch, lambda: None)
    with cli_console.stage_progress(True, console=screen) as display:
        display.watch(object())
        display("clean", "start")
        time.sleep(0.3)
        # before the stage ends: no percentage was ever shown
        assert "%" not in buffer.getvalue()
        display("clean", "end")


def test_disabled_display_is_none():
    with cli_console.stage_progress(False) as display:
        assert display is None


def test_pipeline_hands_its_duckdb_engine_to_on_engine():
    orders = custlens.datasets.synthetic(200, seed=2).orders
    engines = []
    events = []
    custlens.run(
        orders,
        settings=custlens.Settings(analyses=[]),
        on_stage=lambda name, event: events.append((name, event)),
        on_engine=lambda con: engines.append((con, list(events))),
    )
    assert len(engines) == 1
    con, before = engines[0]
    assert con.name == "duckdb"
    # handed over inside the load stage, before cleaning starts
    assert before == [("load", "start")]


@pytest.mark.parametrize("event", ["start", "end"])
def test_stage_names_are_printed_literally(monkeypatch, event):
    buffer, screen = _display(monkeypatch, lambda: None)
    with cli_console.stage_progress(True, console=screen) as display:
        display("[bold]odd[/bold]", "start")
        if event == "end":
            display("[bold]odd[/bold]", "end")
    assert "[bold]odd[/bold]" in buffer.getvalue()


def test_summary_shows_a_dash_for_the_average_of_an_empty_segment(monkeypatch):
    screen = Console(file=io.StringIO(), width=120)
    monkeypatch.setattr(cli_console, "out", screen)
    results = SimpleNamespace(  # what print_summary reads of a Results
        quality=SimpleNamespace(summary_lines=lambda: []),
        as_of="2023-12-23",
        segment_summary=pd.DataFrame(
            {
                "segment": ["Champions", "New Customers"],
                "customers": [2, 0],
                "share": [1.0, 0.0],
                "revenue_share": [1.0, 0.0],
                "avg_monetary": [1234.5, float("nan")],  # the mean of no customers
            }
        ),
        stages={},
        notes=[],
    )
    cli_console.print_summary(results, Path("out"))
    printed = screen.file.getvalue()
    rows = [
        [cell.strip() for cell in line.split("\u2502")[1:-1]]
        for line in printed.splitlines()
        if line.count("\u2502") == 6  # the table's body rows
    ]
    assert rows == [
        ["Champions", "2", "100.0%", "100.0%", "1,234.50"],
        ["New Customers", "0", "0.0%", "0.0%", "-"],
    ]
    assert "nan" not in printed
