"""Open a report in Debian's chromium through Playwright, with every network request blocked."""

from __future__ import annotations

import shutil
from dataclasses import dataclass, field
from pathlib import Path

import pytest

CHROMIUM = "/usr/bin/chromium"
ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]


@dataclass
class PageReport:
    specified: int = 0
    rendered: int = 0
    svgs: int = 0
    console_errors: list[str] = field(default_factory=list)
    page_errors: list[str] = field(default_factory=list)
    dialogs: list[str] = field(default_factory=list)
    requests: list[str] = field(default_factory=list)
    sorted_ok: bool | None = None
    text: str = ""
    row_counts: list[tuple[str, int]] = field(default_factory=list)  # (count text, rows)


def chromium_or_skip() -> str:
    pytest.importorskip("playwright.sync_api")
    path = shutil.which("chromium") or CHROMIUM
    if not Path(path).is_file():
        pytest.skip("chromium is not installed (.ci/run installs it: apt-get install chromium)")
    return path


def open_report(
    html: Path, shots: Path | None = None, sections: tuple[str, ...] = ()
) -> PageReport:
    """Load ``html``, wait for the charts, check sorting; screenshots into ``shots``."""
    from playwright.sync_api import sync_playwright

    out = PageReport()
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=chromium_or_skip(), args=ARGS)
        try:
            page = browser.new_page(viewport={"width": 1280, "height": 900})

            def route(r):
                if not r.request.url.startswith("file:"):
                    out.requests.append(r.request.url)
                    return r.abort()
                if r.request.url != html.resolve().as_uri():
                    out.requests.append(r.request.url)  # a file other than the report itself
                return r.continue_()

            page.route("**/*", route)
            page.on("console", lambda m: m.type == "error" and out.console_errors.append(m.text))
            page.on("pageerror", lambda e: out.page_errors.append(str(e)))
            page.on("dialog", lambda d: (out.dialogs.append(d.message), d.dismiss()))
            page.goto(html.resolve().as_uri())
            page.wait_for_selector("body[data-charts-done='1']", timeout=60_000)
            body = page.locator("body")
            out.specified = int(body.get_attribute("data-charts-specified") or 0)
            out.rendered = int(body.get_attribute("data-charts-rendered") or 0)
            out.svgs = page.locator(".chart-target[data-rendered='1'] svg.marks").count()
            out.text = page.inner_text("main")
            out.row_counts = [
                (str(text), int(n))
                for text, n in page.evaluate(
                    "() => Array.from(document.querySelectorAll('table.data')).map(t => "
                    "[t.closest('.table-block').querySelector('.count').textContent,"
                    " t.tBodies[0].rows.length])"
                )
            ]
            if shots is not None:
                shots.mkdir(parents=True, exist_ok=True)
                page.screenshot(path=str(shots / "report-top.png"))
                for sid in sections:
                    el = page.locator(f"section#{sid}")
                    if el.count():
                        el.screenshot(path=str(shots / f"report-{sid}.png"))
                page.evaluate("window.scrollTo(0, 0)")
            out.sorted_ok = _check_sort(page)
        finally:
            browser.close()
    return out


def _check_sort(page) -> bool | None:
    """Click the first numeric header of the segments table; check the rows come in order."""
    table = page.locator("table.data[data-name='segments']")
    if not table.count():
        return None
    header = table.locator("th.num button.sort").first
    column = header.evaluate("b => Array.from(b.closest('tr').children).indexOf(b.parentElement)")
    values = []
    for _ in range(2):  # ascending, then descending
        header.click()
        values.append(
            table.locator("tbody tr").evaluate_all(
                f"rows => rows.map(r => Number(r.cells[{column}].getAttribute('data-sort')))"
            )
        )
    return values[0] == sorted(values[0]) and values[1] == sorted(values[1], reverse=True)
