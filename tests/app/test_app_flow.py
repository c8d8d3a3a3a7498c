"""The app in Streamlit's test runner: upload, map, run, every page, the cache."""

from __future__ import annotations

import io

import pandas as pd
import pytest
from tests.app.conftest import (
    download_labels,
    errors,
    frame_with,
    go,
    new_app,
    run_rfm_only,
    upload,
)

import custlens


def _metrics(at) -> dict[str, str]:
    return {m.label: m.value for m in at.metric}


def test_upload_run_and_explore(app_env, orders_csv, orders_frame):
    app_env()
    at = upload(new_app(), "orders.csv", orders_csv)
    # the Online Retail layout is detected
    assert at.selectbox(
        key=next(k for k in _keys(at) if k.startswith("map_customer_id"))
    ).value == ("CustomerID")
    run_rfm_only(at)
    assert not errors(at)
    assert at.sidebar.radio(key="page").value == "Overview"
    expected = custlens.run(orders_frame, settings=custlens.Settings(analyses=[]))
    cards = _metrics(at)
    assert cards["Customers"] == f"{len(expected.customers):,}"

    go(at, "Segments")
    summary = frame_with(at, "revenue_share")
    assert summary["customers"].str.replace(",", "").astype(int).sum() == len(expected.customers)
    segment = at.selectbox(key="seg_pick").value
    listed = frame_with(at, "r_score")
    assert set(listed["segment"]) == {segment}
    top = str(listed["customer_id"].iloc[0])
    at.text_input(key="seg_search").set_value(top).run()
    assert top in set(frame_with(at, "r_score")["customer_id"])
    assert any("CRM list" in label for label in download_labels(at))

    go(at, "Customer lookup")
    at.text_input(key="lookup_id").set_value(top).run()
    assert not at.exception and not errors(at)
    assert any("R / F / M" in m.value for m in at.markdown)
    history = frame_with(at, "line")
    kept = history[history["line"] == "purchase"]
    row = expected.customers.set_index("customer_id").loc[top]
    assert kept["order_id"].nunique() == row["frequency"]

    for page in ("Personas", "Anomalies", "Timing", "Predictions"):
        go(at, page)  # not selected: the page says so, without an error
        assert any("not selected" in i.value for i in at.info)

    go(at, "Downloads")  # the folder the app writes has the HTML report
    at.button(key="prepare_zip").click().run()
    assert not errors(at)
    assert "Download the HTML report" in download_labels(at)


def _keys(at) -> list[str]:
    return [w.key for w in at.selectbox]


def test_changed_mapping_and_ambiguity(app_env):
    app_env()
    lines = pd.DataFrame(
        {
            "client": [f"c{i % 12}" for i in range(60)],
            "when": pd.date_range("2024-01-01", periods=60, freq="D").astype(str),
            "revenue": [10.0 + i for i in range(60)],
            "sales": [1.0] * 60,
        }
    )
    at = upload(new_app(), "shop.csv", lines.to_csv(index=False).encode())
    # 'revenue' and 'sales' could each be the amount; the date column is not recognised
    # the date column is not recognised: the mapping cannot run until one is chosen
    panel = " ".join(errors(at))
    assert "What:" in panel and "order\\_ts" in panel and "Fix:" in panel
    at.selectbox(key=_key(at, "order_ts")).set_value("when").run()
    assert not errors(at)
    # 'revenue' and 'sales' could each be the amount: a warning with what/where/fix, and a guess
    warning = " ".join(w.value for w in at.warning)
    assert "could each be" in warning and "Fix:" in warning
    at.selectbox(key=_key(at, "amount")).set_value("sales").run()
    assert not at.warning and not errors(at)
    at.selectbox(key=_key(at, "amount")).set_value("revenue").run()
    run_rfm_only(at)
    assert not errors(at)
    assert _metrics(at)["Customers"] == "12"
    go(at, "Start")
    assert any("custlens.toml" in label for label in download_labels(at))


def _key(at, canonical: str) -> str:
    return next(k for k in _keys(at) if k.startswith(f"map_{canonical}_"))


def test_same_file_and_settings_are_not_recomputed(app_env, orders_csv):
    from custlens.app import state

    app_env()
    at = run_rfm_only(upload(new_app(), "orders.csv", orders_csv))
    cache = state.server().cache
    computed = cache.computed
    # a new tab (a new session) with the same file and settings: served from the cache
    again = run_rfm_only(upload(new_app(), "orders.csv", orders_csv))
    assert cache.computed == computed
    assert _metrics(again)["Customers"] == _metrics(at)["Customers"]
    # switching pages does not run anything
    go(again, "Segments")
    go(again, "Overview")
    assert cache.computed == computed


@pytest.mark.slow
def test_results_folder_every_page(app_env, full_run):
    csv, folder = full_run
    app_env(path=folder)
    at = new_app()
    pages = at.sidebar.radio(key="page").options
    for page in ("Overview", "Segments", "Personas", "Anomalies", "Timing", "Predictions"):
        assert page in pages
        go(at, page)
        assert not errors(at), (page, errors(at))
    go(at, "Personas")
    assert len(at.get("vega_lite_chart")) >= 3
    go(at, "Predictions")
    assert any("Model card" in e.label for e in at.expander)
    results = custlens.open_results(folder)
    flagged = results.customers[results.customers["is_anomaly"]]
    go(at, "Customer lookup")
    cid = str(flagged["customer_id"].iloc[0]) if len(flagged) else "12346"
    at.text_input(key="lookup_id").set_value(cid).run()
    assert not errors(at)
    labels = {m.label for m in at.metric}
    assert {"Churn probability", "CLV", "Anomaly score"} <= labels
    # the history is re-read from the run's source file, which is still there
    history = frame_with(at, "line")
    assert (history["line"] == "purchase").any()
    go(at, "Downloads")
    assert sum(label.endswith(".csv)") for label in download_labels(at)) == len(
        results.segment_summary
    )
    # an opened folder is zipped as it is, without writing anything
    assert any("results folder" in label for label in download_labels(at))


@pytest.mark.slow
def test_results_folder_without_its_source(app_env, full_run, tmp_path):
    import shutil

    _, folder = full_run
    moved = tmp_path / "copy"
    shutil.copytree(folder, moved)
    info = moved / "run.json"
    info.write_text(info.read_text().replace("orders.csv", "gone.csv"))
    app_env(path=moved)
    at = go(new_app(), "Customer lookup")
    cid = custlens.open_results(moved).customers["customer_id"].iloc[0]
    at.text_input(key="lookup_id").set_value(str(cid)).run()
    assert any("needs the source file" in i.value for i in at.info)


def test_downloaded_toml_reads_back(tmp_path):
    from custlens.app.choices import build_settings, settings_toml

    settings = build_settings(
        custlens.Settings(),
        chosen={"customer_id": "Kunde", "order_ts": "Datum", "amount": "Umsatz", "country": None},
        cleaning_mode="minimal",
        rules={"exact_duplicates": False},
        as_of=pd.Timestamp("2024-03-01").date(),
        analyses=["timing"],
    )
    path = tmp_path / "custlens.toml"
    path.write_text(settings_toml(settings))
    back = custlens.load_settings(path)
    assert back.mapping.columns == {"customer_id": "Kunde", "order_ts": "Datum", "amount": "Umsatz"}
    assert "country" in back.mapping.unmapped
    assert back.cleaning.mode == "minimal" and back.cleaning.exact_duplicates is False
    assert back.as_of == settings.as_of and back.analyses == ["timing"]


def test_crm_download_matches_the_folder_file(full_run):
    from custlens.app.downloads import crm_csv

    _, folder = full_run
    results = custlens.open_results(folder)
    segment = results.segment_summary["segment"].iloc[0]
    name, data = crm_csv(results, segment)
    assert data == (folder / "segments" / name).read_bytes()
    assert len(pd.read_csv(io.BytesIO(data))) == int(results.segment_summary["customers"].iloc[0])


def test_file_given_at_start_is_read_where_it_lies(app_env, tmp_path, orders_frame):
    path = tmp_path / "big orders.csv"
    orders_frame.to_csv(path, index=False)
    app_env(path=path)
    at = new_app()
    assert at.radio(key="source_choice").value == "File given at start: big orders.csv"
    run_rfm_only(at)
    assert not errors(at)
    expected = custlens.run(str(path), settings=custlens.Settings(analyses=[]))
    assert _metrics(at)["Customers"] == f"{len(expected.customers):,}"
    # nothing was copied: the run read the file itself
    from custlens.app import state

    run = state.server().cache.get(at.session_state["run_key"])
    assert run.source == str(path.resolve())


def test_a_reopened_tab_finds_its_run_in_the_url(app_env, orders_csv):
    from streamlit.testing.v1 import AppTest
    from tests.app.conftest import SCRIPT, TIMEOUT

    from custlens.app import state

    app_env()
    at = run_rfm_only(upload(new_app(), "orders.csv", orders_csv))
    key = (
        at.query_params["run"][0]
        if isinstance(at.query_params["run"], list)
        else at.query_params["run"]
    )
    computed = state.server().cache.computed
    reopened = AppTest.from_file(SCRIPT, default_timeout=TIMEOUT)
    reopened.query_params["run"] = key
    reopened.run()
    assert not reopened.exception
    assert reopened.sidebar.radio(key="page").value == "Overview"
    assert _metrics(reopened)["Customers"] == _metrics(at)["Customers"]
    assert state.server().cache.computed == computed


def test_the_mapping_screen_gives_a_small_file_its_size(app_env):
    """A 48.9 KB upload (the CDNOW sample) was "0.0 MB" above its first rows."""
    data = b"customer,date,amount\n" + b"".join(
        f"c{i % 40},2024-01-{1 + i % 28:02d},{10 + i}.50\n".encode() for i in range(2000)
    )
    assert 30_000 < len(data) < 60_000
    app_env()
    at = upload(new_app(), "small.csv", data)
    captions = [c.value for c in at.caption]
    expected = f"({len(data) / 1000:.1f} KB)"
    assert any(c.startswith("First rows of small") and c.endswith(expected) for c in captions), (
        captions
    )
    assert not [c for c in captions if "0.0 MB" in c], captions
