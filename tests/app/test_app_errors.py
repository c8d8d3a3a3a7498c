"""Bad input in the app: each shows the error panel (what / where / fix), never a traceback,
and the user can fix the mapping and run again in the same session."""

from __future__ import annotations

import pandas as pd
from tests.app.conftest import errors, new_app, run_rfm_only, upload


def _panel(at) -> str:
    text = " ".join(errors(at))
    assert "What:" in text and "Fix:" in text, text
    return text


def _key(at, canonical: str) -> str:
    return next(w.key for w in at.selectbox if w.key.startswith(f"map_{canonical}_"))


def _lines(n_customers: int = 8, n: int = 40, **extra) -> pd.DataFrame:
    return pd.DataFrame(
        {
            "buyer_ref": [f"b{i % n_customers}" for i in range(n)],
            "order_date": pd.date_range("2024-01-01", periods=n, freq="D").astype(str),
            "amount": [5.0 + i for i in range(n)],
            **extra,
        }
    )


def test_unreadable_file(app_env):
    app_env()
    at = upload(new_app(), "orders.xlsx", b"this is not a spreadsheet", "application/vnd.ms-excel")
    assert not at.exception
    assert "orders.xlsx" in _panel(at).replace("\\", "")
    # the app keeps running: a good file works in the same session
    good = _lines(n_customers=6).rename(columns={"buyer_ref": "customer"})
    at.file_uploader(key="upload").clear()
    upload(at, "good.csv", good.to_csv(index=False).encode())
    assert not errors(at)


def test_no_customer_column_then_fixed(app_env):
    app_env()
    at = upload(new_app(), "lines.csv", _lines().to_csv(index=False).encode())
    text = _panel(at)
    assert "customer\\_id" in text  # no column found for customer_id, with the columns found
    assert not [b for b in at.button if b.key == "run_button"]  # cannot run yet
    at.selectbox(key=_key(at, "customer_id")).set_value("buyer_ref").run()
    assert not errors(at)
    run_rfm_only(at)
    assert not errors(at)
    assert {m.label: m.value for m in at.metric}["Customers"] == "8"


def test_dates_that_do_not_parse_then_fixed(app_env):
    app_env()
    lines = _lines(customer=[f"c{i % 8}" for i in range(40)], note=["soon"] * 40)
    lines = lines.drop(columns=["buyer_ref"]).rename(columns={"order_date": "day"})
    at = upload(new_app(), "dates.csv", lines.to_csv(index=False).encode())
    at.selectbox(key=_key(at, "order_ts")).set_value("note").run()
    run_rfm_only(at)
    text = _panel(at)
    assert "note" in text and "row" in text  # the column, the row and the value that failed
    assert at.sidebar.radio(key="page").value == "Start"
    at.selectbox(key=_key(at, "order_ts")).set_value("day").run()
    run_rfm_only(at)
    assert not errors(at)
    assert at.sidebar.radio(key="page").value == "Overview"


def test_five_rows(app_env):
    app_env()
    lines = _lines(n_customers=2, n=5).rename(columns={"buyer_ref": "customer_id"})
    at = run_rfm_only(upload(new_app(), "five.csv", lines.to_csv(index=False).encode()))
    text = _panel(at)
    assert "customers" in text
    assert at.sidebar.radio(key="page").options == ["Start"]


def test_upload_over_the_limit_says_how_to_pass_a_path(app_env, tmp_path):
    config = tmp_path / "custlens.toml"
    config.write_text("[app]\nmax_upload_mb = 1\n")
    app_env(config=config)
    big = _lines(n=60_000).rename(columns={"buyer_ref": "customer"}).to_csv(index=False).encode()
    assert len(big) > 1024 * 1024
    at = upload(new_app(), "big orders.csv", big)
    text = _panel(at).replace("\\", "")
    assert "over the app's upload limit of 1 MB" in text
    assert 'custlens app "big orders.csv"' in text and "max_upload_mb" in text


def test_a_bad_settings_file_is_a_panel(app_env, tmp_path):
    config = tmp_path / "custlens.toml"
    config.write_text("[cleaning]\nmode = 'sometimes'\n")
    app_env(config=config)
    at = new_app()
    assert "cleaning.mode" in _panel(at).replace("\\", "")


def test_an_engine_out_of_memory_is_a_panel_then_the_run_works(app_env, monkeypatch):
    """CUSTLENS_MEMORY_LIMIT too small for any query: reading the upload, then the run, each
    show what ran out, the cap and the fix (not "cannot parse the file" or a bare exception
    name); with the cap lifted the same session runs."""
    app_env()
    # lines of their own: the app caches what it read and ran by the file's bytes
    good = _lines(n_customers=6, note=["memory"] * 40).rename(columns={"buyer_ref": "customer"})
    monkeypatch.setenv("CUSTLENS_MEMORY_LIMIT", "1MB")
    at = upload(new_app(), "orders.csv", good.to_csv(index=False).encode())
    text = _panel(at)
    assert "ran out of memory" in text and "Out of Memory Error" in text
    assert "CUSTLENS\\_MEMORY\\_LIMIT=1MB" in text and "parse" not in text
    monkeypatch.delenv("CUSTLENS_MEMORY_LIMIT")
    at.file_uploader(key="upload").clear()
    upload(at, "orders2.csv", good.to_csv(index=False).encode())
    assert not errors(at)
    monkeypatch.setenv("CUSTLENS_MEMORY_LIMIT", "1MB")  # the run opens its own engine
    run_rfm_only(at)
    text = _panel(at)
    assert "The run stopped" in text and "ran out of memory during the run" in text
    monkeypatch.delenv("CUSTLENS_MEMORY_LIMIT")
    run_rfm_only(at)
    assert not errors(at)
    assert {m.label: m.value for m in at.metric}["Customers"] == "6"


def _where(at) -> str:
    """The panel's Where line as the page shows it (Markdown escapes removed)."""
    text = _panel(at).replace("\\", "")
    return text.split("**Where:** ", 1)[1].split("\n", 1)[0]


def test_errors_name_the_upload_not_the_servers_copy(app_env):
    """An upload is stored in the server's private work folder; a message must name the file
    the user uploaded, not a temporary path they never saw."""
    app_env()
    at = upload(new_app(), "my empty export.csv", b"")
    assert _where(at) == "my empty export.csv"
    header = b"customer,order_date,amount\n"
    at.file_uploader(key="upload").clear()
    at = run_rfm_only(upload(at, "only a header.csv", header))
    assert _where(at) == "only a header.csv"


def test_a_customer_table_points_to_profile(app_env):
    """One row per customer (an id, no date or order columns), as ``custlens run`` says."""
    app_env()
    table = pd.DataFrame(
        {
            "ID": range(1, 41),
            "Income": [30_000.0 + 500 * i for i in range(40)],
            "Recency": [i % 30 for i in range(40)],
            "MntWines": [10 * i for i in range(40)],
        }
    )
    at = upload(new_app(), "marketing campaign.csv", table.to_csv(index=False).encode())
    info = " ".join(i.value for i in at.info)
    assert "customer table" in info
    assert "custlens profile 'marketing campaign.csv' --out DIR" in info
    # an order log with an unknown customer column gets no such hint
    at.file_uploader(key="upload").clear()
    upload(at, "lines.csv", _lines().to_csv(index=False).encode())
    assert not at.info and errors(at)


def test_a_long_file_name_keeps_its_format(app_env, orders_csv):
    """A name over the length kept on disk lost its '.csv' and was refused as a file type
    without an extension."""
    import gzip

    app_env()
    long = "quarterly_orders_export_from_the_webshop_backend_" * 4
    at = upload(new_app(), long + ".csv", orders_csv)
    assert not errors(at)
    assert any(b.key == "run_button" for b in at.button)
    at.file_uploader(key="upload").clear()
    upload(at, long + ".csv.gz", gzip.compress(orders_csv), "application/gzip")
    assert not errors(at)


def test_a_corrected_file_with_the_same_name_and_size_is_read_again(app_env):
    """Uploading a corrected export (same name, same size, one value changed) kept running the
    first upload's data: the upload was recognised by its name and size only."""
    app_env()
    lines = _lines(n_customers=8).rename(columns={"buyer_ref": "customer"})
    first = lines.to_csv(index=False).encode()
    fixed = lines.assign(amount=lines["amount"].where(lines.index != 0, 9.0))  # 5.0 -> 9.0
    second = fixed.to_csv(index=False).encode()
    assert len(first) == len(second) and first != second
    at = run_rfm_only(upload(new_app(), "orders.csv", first))
    revenue = {m.label: m.value for m in at.metric}["Revenue"]
    assert revenue == f"{lines['amount'].sum():,.0f}"
    at.sidebar.radio(key="page").set_value("Start").run()
    at.file_uploader(key="upload").clear()
    at = run_rfm_only(upload(at, "orders.csv", second))
    assert {m.label: m.value for m in at.metric}["Revenue"] == f"{fixed['amount'].sum():,.0f}"


def test_the_uploader_takes_the_file_formats_custlens_run_reads(app_env):
    """The browser refused .xls, .ods, .psv and .pq files that ``custlens run`` reads."""
    app_env()
    accepted = set(new_app().file_uploader(key="upload").proto.type)
    for suffix in (".csv", ".tsv", ".psv", ".gz", ".xlsx", ".xls", ".xlsb", ".ods", ".pq"):
        assert suffix in accepted, suffix


def test_a_pipe_separated_upload_runs(app_env, orders_frame):
    app_env()
    data = orders_frame.to_csv(index=False, sep="|").encode()
    at = run_rfm_only(upload(new_app(), "orders.psv", data))
    assert not errors(at)
    assert at.sidebar.radio(key="page").value == "Overview"


def test_a_profile_folder_says_what_it_is(app_env, tmp_path):
    """``custlens app DIR`` on a ``custlens profile`` folder said it was not written by this
    version of custlens run."""
    import custlens

    table = pd.DataFrame(
        {"ID": range(1, 41), "Income": [30_000.0 + 500 * i for i in range(40)]}
        | {"Recency": [i % 30 for i in range(40)], "MntWines": [10 * i for i in range(40)]}
    )
    csv = tmp_path / "campaign.csv"
    table.to_csv(csv, index=False)
    from custlens.report.profile_markdown import write_profile

    folder = write_profile(custlens.profile(str(csv)), tmp_path / "profile", figures="none")
    app_env(path=folder)
    text = _panel(new_app()).replace("\\", "")
    assert "folder of custlens profile, not of custlens run" in text
    assert "profile.html" in text
