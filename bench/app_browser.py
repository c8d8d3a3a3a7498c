"""The web app in a real browser: time from upload (or from Run, for a file passed as a path) to
the segments table, and the server's peak memory.

    python bench/app_browser.py FILE [--path] [--analyses rfm|all] [--shots DIR]

Starts ``custlens app`` (``custlens app FILE`` with ``--path``), drives Debian's Chromium through
Playwright, and prints the seconds and the server's peak resident memory (VmHWM). A file over
the upload limit prints the message the page shows instead.
"""

from __future__ import annotations

import argparse
import os
import re
import signal
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

SRC = str(Path(__file__).resolve().parents[1] / "src")
ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
WAIT = 1_800_000


def _peak_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    return float("nan")


def _idle(page) -> None:
    page.wait_for_timeout(500)
    page.wait_for_function(
        """() => !document.querySelector(
            '[data-stale="true"], [data-testid="stSkeleton"], [data-testid="stSpinner"]')""",
        timeout=WAIT,
    )


def main() -> None:
    from playwright.sync_api import sync_playwright

    parser = argparse.ArgumentParser()
    parser.add_argument("file")
    parser.add_argument("--path", action="store_true", help="pass the file to custlens app")
    parser.add_argument("--analyses", default="all", choices=["all", "rfm"])
    parser.add_argument("--shots", default=None)
    args = parser.parse_args()
    file = Path(args.file).resolve()
    env = {**os.environ, "PYTHONPATH": SRC}
    port = 8700 + os.getpid() % 200
    command = [sys.executable, "-m", "custlens", "app", "--port", str(port)]
    if args.analyses == "rfm":  # RFM only: a custlens.toml the app starts from
        config = Path(os.environ.get("TMPDIR", "/tmp")) / f"custlens-bench-{os.getpid()}.toml"
        config.write_text("analyses = []\n")
        command += ["--config", str(config)]
    server = subprocess.Popen(
        command + ([str(file)] if args.path else []),
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
    )
    url = f"http://127.0.0.1:{port}"
    try:
        for _ in range(300):
            try:
                urllib.request.urlopen(f"{url}/_stcore/health", timeout=2).read()
                break
            except OSError:
                time.sleep(0.3)
        with sync_playwright() as pw:
            browser = pw.chromium.launch(executable_path="/usr/bin/chromium", args=ARGS)
            page = browser.new_page(viewport={"width": 1400, "height": 1600})
            page.goto(url)
            page.get_by_text("1. Data").wait_for(timeout=WAIT)
            start = time.perf_counter()
            if not args.path:
                page.locator('input[type="file"]').set_input_files(str(file))
                page.wait_for_timeout(3000)
                limit = page.get_by_text(re.compile(r"must be .* or smaller|upload limit"))
                if limit.count():
                    if args.shots:
                        page.screenshot(path=f"{args.shots}/upload-limit.png")
                    print("upload refused:", " | ".join(limit.all_inner_texts()))
                    return
            page.get_by_role("button", name="Run", exact=True).wait_for(timeout=WAIT)
            _idle(page)
            ready = time.perf_counter()
            page.get_by_role("button", name="Run", exact=True).click()
            page.get_by_role("heading", name="Overview").wait_for(timeout=WAIT)
            page.locator('[data-testid="stSidebar"]').get_by_text("Segments", exact=True).click()
            page.get_by_text(re.compile(r"customers in \d+ segments")).wait_for(timeout=WAIT)
            page.locator('[data-testid="stDataFrame"]').first.wait_for(timeout=WAIT)
            done = time.perf_counter()
            caption = page.get_by_text(re.compile(r"customers in \d+ segments")).inner_text()
            if args.shots:
                _idle(page)
                page.screenshot(path=f"{args.shots}/segments-{file.stem}.png")
            browser.close()
        print(f"file: {file.name} ({file.stat().st_size / 1e6:,.1f} MB), analyses: {args.analyses}")
        print(f"upload + mapping screen ready: {ready - start:.1f} s")
        print(f"Run -> segments table: {done - ready:.1f} s")
        print(f"total upload -> segments: {done - start:.1f} s")
        print(f"segments page: {caption}")
        print(f"server peak memory (VmHWM): {_peak_mb(server.pid):,.0f} MB")
    finally:
        os.killpg(server.pid, signal.SIGTERM)
        server.wait(timeout=30)


if __name__ == "__main__":
    main()
