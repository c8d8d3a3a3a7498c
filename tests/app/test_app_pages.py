"""What the pages show, found by driving the app in a browser: charts drawn at their size."""

from __future__ import annotations

import io
import json

import pytest
from tests.app.conftest import go, new_app, run_rfm_only, upload


def _specs(at) -> list[dict]:
    return [json.loads(chart.proto.spec) for chart in at.get("vega_lite_chart")]


@pytest.mark.slow
def test_charts_keep_their_size_instead_of_being_squeezed(app_env, full_run):
    """A chart without its own ``autosize`` is made by Streamlit to fit its whole drawing
    (titles, rotated axis labels, legend) into the plot's width and height: the persona
    heatmap's rows shrank to a few pixels and the anomaly bars hid behind their labels. The
    app draws them as the report does: the declared size is the plot's, labels around it."""
    _, folder = full_run
    app_env(path=folder)
    at = new_app()
    for page in ("Overview", "Personas", "Anomalies", "Predictions"):
        specs = _specs(go(at, page))
        assert specs, page
        for spec in specs:
            assert spec.get("autosize", {}).get("type") == "pad", (page, spec.get("title"))


HOSTILE = "**bold** [x](https://evil.example) $x^2$ <b>"


def _shown_as_html(at) -> list[tuple[str, str]]:
    """(Markdown source, its HTML by an independent CommonMark parser) of every text the page
    renders as Markdown: markdown, captions, alerts, in the page and the sidebar."""
    markdown_it = pytest.importorskip("markdown_it")
    md = markdown_it.MarkdownIt("commonmark")
    texts = [
        e.value
        for kind in ("markdown", "caption", "warning", "info", "error")
        for e in [*at.get(kind), *getattr(at.sidebar, kind)]
    ]
    return [(t, md.render(t)) for t in texts]


def _assert_literal(at, needle: str) -> None:
    shown = [(src, html) for src, html in _shown_as_html(at) if needle in html]
    assert shown, f"{needle!r} is not on the page"
    for src, html in shown:
        assert "<a " not in html and "<strong>bold" not in html, src
        assert "<b>" not in html, src  # CommonMark keeps inline HTML; the page must not
        assert all(src[i - 1] == "\\" for i, ch in enumerate(src) if ch == "$"), src  # no LaTeX


def test_ids_and_file_names_are_shown_literally(app_env, orders_frame):
    """Customer ids and file names are data: a link, emphasis or ``$...$`` in them is shown as
    typed, not rendered (the lookup's heading was a live link and a formula)."""
    orders = orders_frame.copy()
    first = orders["CustomerID"].dropna().iloc[0]
    orders["CustomerID"] = orders["CustomerID"].where(orders["CustomerID"] != first, HOSTILE)
    name = "[shop](https://evil.example) $1$.csv"
    app_env()
    at = upload(new_app(), name, orders.to_csv(index=False).encode("utf-8"))
    run_rfm_only(at)
    _assert_literal(at, "evil.example) $1$.csv")  # the sidebar names the file
    go(at, "Overview")
    _assert_literal(at, "evil.example) $1$.csv")
    go(at, "Customer lookup")
    at.text_input(key="lookup_id").set_value(HOSTILE).run()
    assert not at.exception, at.exception
    _assert_literal(at, "Customer **bold** [x](https://evil.example) $x^2$")
    _assert_literal(at, "lines from [shop](https://evil.example) $1$.csv")
    # an id that is not there is quoted back literally, with the ids that contain it
    at.text_input(key="lookup_id").set_value("**bold**").run()
    _assert_literal(at, "No customer '**bold**'")
    _assert_literal(at, "Ids containing it: **bold** [x]")


def test_crm_download_is_spreadsheet_safe_like_the_folder_file(tmp_path, orders_frame):
    """The app's CRM download is the folder's ``segments/<slug>.csv``, byte for byte, so an id
    that starts like a formula is made inert there too (Excel would run ``=cmd|...``)."""
    import pandas as pd

    import custlens
    from custlens.app.downloads import crm_csv
    from custlens.exports import write_results

    orders = orders_frame.copy()
    ids = list(orders["CustomerID"].dropna().unique()[:4])
    formulas = ["=cmd|' /C calc'!A0", "+1-2", "-3+4", "@SUM(A1)"]
    orders["CustomerID"] = orders["CustomerID"].replace(dict(zip(ids, formulas, strict=True)))
    csv = tmp_path / "orders.csv"
    orders.to_csv(csv, index=False)
    results = custlens.run(str(csv), settings=custlens.Settings(analyses=[]))
    folder = write_results(results, tmp_path / "results")
    seen = set()
    for segment in results.segment_summary["segment"]:
        name, data = crm_csv(results, segment)
        written = folder / "segments" / name
        if written.is_file():  # the folder has no file for an empty segment
            assert data == written.read_bytes(), segment
        shown = pd.read_csv(io.BytesIO(data), dtype=str, keep_default_na=False)
        seen |= set(shown["customer_id"]) & {"'" + f for f in formulas}
        assert not shown["customer_id"].str.startswith(("=", "+", "-", "@")).any(), segment
    assert seen == {"'" + f for f in formulas}


@pytest.mark.slow
def test_downloaded_folder_names_the_upload(app_env, orders_frame):
    """The results folder and report offered for download say which file they describe: the
    upload's name, not the server's temporary copy (gone when the app stops)."""
    from custlens.app import state

    app_env()
    # content of its own: a run of the same content and settings is shared by every tab
    data = orders_frame.iloc[:-1].to_csv(index=False).encode("utf-8")
    at = run_rfm_only(upload(new_app(), "march orders.csv", data))
    go(at, "Downloads")
    at.button(key="prepare_zip").click().run()
    assert not at.exception, at.exception
    run = state.server().cache.get(at.session_state["run_key"])
    folder = run.extras["folder"]
    assert json.loads((folder / "run.json").read_text())["input"]["origin"] == "march orders.csv"
    report = (folder / "report.html").read_text(encoding="utf-8")
    assert "march orders.csv" in report and "custlens-app-" not in report


def test_overview_counts_the_orders_before_the_as_of_date(app_env):
    """With an as-of date before the last order, the Overview's cards and lead count the
    customers, orders and revenue the segments describe (before that date), not every line
    cleaning kept: the cards said 12 customers while the sidebar and segments said 8."""
    import datetime

    import pandas as pd

    days = pd.date_range("2024-01-01", periods=60, freq="D")
    lines = pd.DataFrame(
        {
            # customers c8..c11 buy only from day 40 on, after the as-of date
            "customer": [f"c{i % 8}" if i < 40 else f"c{8 + i % 4}" for i in range(60)],
            "order_date": days.strftime("%Y-%m-%d"),
            "amount": [10.0 + i for i in range(60)],
        }
    )
    as_of = datetime.date(2024, 2, 5)  # day 35: rows 0..34 are before it
    before = lines[pd.to_datetime(lines["order_date"]).dt.date < as_of]
    app_env()
    at = upload(new_app(), "log.csv", lines.to_csv(index=False).encode())
    at.date_input(key="as_of").set_value(as_of).run()
    run_rfm_only(at)
    cards = {m.label: m.value for m in at.metric}
    assert cards["Customers"] == str(before["customer"].nunique()) == "8"
    assert cards["Orders"] == str(len(before)) == "35"
    assert cards["Revenue"] == f"{before['amount'].sum():,.0f}"
    lead = " ".join(c.value for c in at.caption)
    assert "8 customers placed 35 orders from 2024\\-01\\-01 to 2024\\-02\\-04" in lead


def test_a_reloaded_tab_stays_on_its_page(app_env, orders_csv):
    """Reloading the browser on the Segments page came back to the Overview."""
    from streamlit.testing.v1 import AppTest
    from tests.app.conftest import SCRIPT, TIMEOUT

    app_env()
    at = go(run_rfm_only(upload(new_app(), "orders.csv", orders_csv)), "Segments")
    params = {k: v[0] if isinstance(v, list) else v for k, v in at.query_params.items()}
    assert params["page"] == "Segments"
    reloaded = AppTest.from_file(SCRIPT, default_timeout=TIMEOUT)
    reloaded.query_params.update(params)
    reloaded.run()
    assert not reloaded.exception, reloaded.exception
    assert reloaded.sidebar.radio(key="page").value == "Segments"
    assert reloaded.title[0].value == "Segments"
    # a page the run does not have (an old link) falls back to the Overview
    stale = AppTest.from_file(SCRIPT, default_timeout=TIMEOUT)
    stale.query_params.update({**params, "page": "Nowhere"})
    stale.run()
    assert stale.sidebar.radio(key="page").value == "Overview"


def test_the_as_of_date_can_be_in_an_old_order_log(app_env):
    """Online Retail is 2010-2011 and CDNOW 1997-1998: the as-of picker allowed only Streamlit's
    default of ten years around today, so no date inside such a log could be chosen."""
    import datetime

    import pandas as pd

    days = pd.date_range("1997-01-01", periods=60, freq="D")
    lines = pd.DataFrame(
        {
            "customer": [f"c{i % 8}" for i in range(60)],
            "order_date": days.strftime("%Y-%m-%d"),
            "amount": [10.0 + i for i in range(60)],
        }
    )
    app_env()
    at = upload(new_app(), "cdnow like.csv", lines.to_csv(index=False).encode())
    picker = at.date_input(key="as_of")
    as_of = datetime.date(1997, 2, 1)
    assert picker.proto.min <= as_of.isoformat() <= picker.proto.max
    picker.set_value(as_of).run()
    run_rfm_only(at)
    assert "as of 1997-02-01" in at.sidebar.caption[0].value.replace("\\", "")
