"""Bad input through the CLI: one clear message, exit code 2, no traceback, no output files."""

from __future__ import annotations

import hashlib
import re
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest
from typer.testing import CliRunner

from custlens.cli import app

HEADER = "InvoiceNo,StockCode,Description,Quantity,InvoiceDate,UnitPrice,CustomerID,Country\n"


def _lines(n_customers: int = 6, *, prefix: str = "", date: str = "2011-01-0{d} 10:00:00") -> str:
    rows = []
    for c in range(n_customers):
        for d in range(1, 4):
            rows.append(
                f"{prefix}{1000 + c * 10 + d},A{d},Thing,{d},{date.format(d=d)},2.5,{17000 + c},UK"
            )
    return "\n".join(rows) + "\n"


def _invoke(args: list[str]):
    result = CliRunner().invoke(app, args)
    return result, (result.stdout or "") + (result.stderr or "")


def _assert_clean_failure(result, text: str, out: Path, *needles: str) -> None:
    assert result.exit_code == 2, text
    assert "Traceback" not in text
    assert result.exception is None or isinstance(result.exception, SystemExit), repr(
        result.exception
    )
    for needle in needles:
        assert needle.lower() in text.lower(), (needle, text)
    assert not out.exists(), f"output written despite the error: {list(out.rglob('*'))}"


@pytest.fixture
def out(tmp_path: Path) -> Path:
    return tmp_path / "results"


def _write(tmp_path: Path, name: str, text: str, encoding: str = "utf-8") -> Path:
    path = tmp_path / name
    path.write_text(text, encoding=encoding)
    return path


CASES = {
    "missing file": (lambda p: str(p / "nope.csv"), ["nope.csv"]),
    "directory": (lambda p: str(p), ["directory"]),
    "empty file": (lambda p: str(_write(p, "empty.csv", "")), ["empty"]),
    "header only": (lambda p: str(_write(p, "header.csv", HEADER)), ["no data rows"]),
    "missing required column": (
        lambda p: str(
            _write(
                p, "nocust.csv", "InvoiceNo,InvoiceDate,UnitPrice,Quantity\n1,2011-01-01,2.0,1\n"
            )
        ),
        ["customer_id", "--map"],
    ),
    "ambiguous columns": (
        lambda p: str(
            _write(
                p, "ambig.csv", "customer_id,order_date,date,amount\n1,2011-01-01,2011-01-02,5\n"
            )
        ),
        ["order_date", "date", "--map"],
    ),
    "unparseable dates": (
        lambda p: str(
            _write(
                p, "dates.csv", HEADER + _lines().replace("2011-01-02 10:00:00", "not a date", 1)
            )
        ),
        ["InvoiceDate", "not a date"],
    ),
    "text in price column": (
        lambda p: str(_write(p, "price.csv", HEADER + _lines().replace(",2.5,", ",abc,", 1))),
        ["UnitPrice", "abc"],
    ),
    "every row cancelled": (
        lambda p: str(_write(p, "cancel.csv", HEADER + _lines(prefix="C"))),
        ["cancel"],
    ),
    "single customer": (
        lambda p: str(_write(p, "one.csv", HEADER + _lines(1))),
        ["customer"],
    ),
    "duplicate column names": (
        lambda p: str(_write(p, "dup.csv", HEADER.replace("Country", "Quantity") + _lines())),
        ["Quantity", "duplicate"],
    ),
}


@pytest.mark.parametrize("case", list(CASES))
def test_bad_file_inputs(case: str, tmp_path: Path, out: Path) -> None:
    make, needles = CASES[case]
    source = make(tmp_path)
    result, text = _invoke(["run", source, "--out", str(out)])
    _assert_clean_failure(result, text, out, *needles)


def test_unknown_excel_sheet(tmp_path: Path, out: Path) -> None:
    openpyxl = pytest.importorskip("openpyxl")
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.title = "Year 2010-2011"
    ws.append(HEADER.strip().split(","))
    ws.append([1, "A", "x", 1, "2011-01-01 10:00:00", 2.0, 17000, "UK"])
    path = tmp_path / "book.xlsx"
    wb.save(path)
    result, text = _invoke(["run", str(path), "--sheet", "Nope", "--out", str(out)])
    _assert_clean_failure(result, text, out, "Nope", "Year 2010-2011")


def test_database_table_missing(tmp_path: Path, out: Path) -> None:
    db = tmp_path / "shop.sqlite"
    with sqlite3.connect(db) as con:
        con.execute("create table orders (customer_id text, order_ts text, amount real)")
    result, text = _invoke(["run", str(db), "--table", "sales", "--out", str(out)])
    _assert_clean_failure(result, text, out, "sales", "orders")


def test_as_of_before_first_order(tmp_path: Path, out: Path) -> None:
    src = _write(tmp_path, "ok.csv", HEADER + _lines())
    result, text = _invoke(["run", str(src), "--as-of", "2010-01-01", "--out", str(out)])
    _assert_clean_failure(result, text, out, "2010-01-01", "--as-of")


def test_as_of_not_a_date(tmp_path: Path, out: Path) -> None:
    src = _write(tmp_path, "ok.csv", HEADER + _lines())
    result, text = _invoke(["run", str(src), "--as-of", "yesterday", "--out", str(out)])
    _assert_clean_failure(result, text, out, "yesterday", "YYYY-MM-DD")


def test_output_path_cannot_be_written(tmp_path: Path) -> None:
    src = _write(tmp_path, "ok.csv", HEADER + _lines())
    blocker = _write(tmp_path, "blocker.txt", "a file, not a folder")
    target = blocker / "results"
    result, text = _invoke(["run", str(src), "--out", str(target)])
    assert result.exit_code == 2, text
    assert "Traceback" not in text and "blocker.txt" in text
    assert blocker.read_text() == "a file, not a folder"


def test_foreign_non_empty_output_refused_without_force(tmp_path: Path) -> None:
    src = _write(tmp_path, "ok.csv", HEADER + _lines())
    target = tmp_path / "mine"
    target.mkdir()
    (target / "thesis.docx").write_text("precious")
    result, text = _invoke(["run", str(src), "--out", str(target)])
    assert result.exit_code == 2 and "--force" in text
    assert (target / "thesis.docx").read_text() == "precious"


def test_bad_map_flag(tmp_path: Path, out: Path) -> None:
    src = _write(tmp_path, "ok.csv", HEADER + _lines())
    result, text = _invoke(["run", str(src), "--map", "customer_id", "--out", str(out)])
    _assert_clean_failure(result, text, out, "--map", "canonical=column")


def test_map_to_missing_column(tmp_path: Path, out: Path) -> None:
    src = _write(tmp_path, "ok.csv", HEADER + _lines())
    result, text = _invoke(["run", str(src), "--map", "customer_id=Kunde", "--out", str(out)])
    _assert_clean_failure(result, text, out, "Kunde")


def test_invalid_config_file(tmp_path: Path, out: Path) -> None:
    src = _write(tmp_path, "ok.csv", HEADER + _lines())
    cfg = _write(tmp_path, "custlens.toml", "[cleaning]\nmode = 'aggressive'\n")
    result, text = _invoke(["run", str(src), "--config", str(cfg), "--out", str(out)])
    _assert_clean_failure(result, text, out, "cleaning.mode", str(cfg))


def test_no_header_needs_columns(tmp_path: Path, out: Path) -> None:
    src = _write(tmp_path, "log.txt", "1 19970101 1 11.77\n")
    result, text = _invoke(["run", str(src), "--no-header", "--out", str(out)])
    _assert_clean_failure(result, text, out, "--columns")


def test_input_untouched_and_real_process_exit_code(tmp_path: Path, out: Path) -> None:
    src = _write(tmp_path, "price.csv", HEADER + _lines().replace(",2.5,", ",abc,", 1))
    before = hashlib.sha256(src.read_bytes()).hexdigest()
    proc = subprocess.run(
        [sys.executable, "-m", "custlens", "run", str(src), "--out", str(out)],
        capture_output=True,
        text=True,
    )
    assert proc.returncode == 2
    assert "Traceback" not in proc.stderr + proc.stdout
    assert "abc" in proc.stderr
    assert hashlib.sha256(src.read_bytes()).hexdigest() == before
    assert not out.exists()


def _countries_and_days() -> str:
    """Six customers, three lines each on 2011-01-01..03: customers 0-2 in UK, 3-5 in France."""
    lines = _lines().splitlines()
    return HEADER + "".join(
        line.removesuffix(",UK") + (",UK" if i < 9 else ",France") + "\n"
        for i, line in enumerate(lines)
    )


def _one_customer_a_day() -> str:
    """Six customers, customer c buying once on 2011-01-0(c+1)."""
    return HEADER + "".join(
        f"{1000 + c},A1,Thing,1,2011-01-0{c + 1} 10:00:00,2.5,{17000 + c},UK\n" for c in range(6)
    )


def _no_customer_ids() -> str:
    """The lines of ``_lines()`` with the customer id left empty."""
    rows = [line.split(",") for line in _lines().splitlines()]
    return HEADER + "".join(",".join([*r[:6], "", r[7]]) + "\n" for r in rows)


@pytest.mark.parametrize(
    ("flags", "data", "needles", "absent"),
    [
        # the filters say what the lines they removed hold, and how to widen them
        (["--country", "Narnia"], _countries_and_days(), ["--country", "France, UK"], ["`widen"]),
        (
            ["--date-from", "2012-01-01"],
            _countries_and_days(),
            ["--date-from", "run from 2011-01-01 to 2011-01-03"],
            ["`widen"],
        ),
        # no customer ids at all: map the right column (keeping such lines cannot help)
        ([], _no_customer_ids(), ["--map customer_id=", "empty"], ["missing_customer = false"]),
        # one customer: a later --as-of cannot add customers, so it is not offered
        ([], HEADER + _lines(1), ["at least 5 customers", "mapping"], ["--as-of"]),
        # too early an --as-of (two customers bought before it): offered, with the last
        # purchase date
        (
            ["--as-of", "2011-01-03"],
            _one_customer_a_day(),
            ["found 2", "later --as-of date (the purchases run to 2011-01-06)"],
            [],
        ),
        (["--horizon", "0d"], HEADER + _lines(), ["positive horizon"], ["not a number"]),
    ],
    ids=["country", "date-from", "no customer ids", "one customer", "early as-of", "horizon 0"],
)
def test_fixes_that_fit_the_case(
    tmp_path: Path, out: Path, flags: list[str], data: str, needles: list[str], absent: list[str]
) -> None:
    """What the error offers as the fix can work in that case."""
    src = _write(tmp_path, "orders.csv", data)
    result, text = _invoke(["run", str(src), "--out", str(out), "--analyses", "rfm", *flags])
    _assert_clean_failure(result, text, out, *needles)
    for word in absent:
        assert word not in text, (word, text)


def test_unix_timestamps_are_named_as_such(tmp_path: Path, out: Path) -> None:
    """Integer seconds since 1970 in the date column: the fix says to convert them, not to pass
    a --date-format (none can read them)."""
    import pandas as pd

    frame = pd.read_csv(pd.io.common.StringIO(HEADER + _lines()))
    since = pd.to_datetime(frame["InvoiceDate"]) - pd.Timestamp("1970-01-01")
    frame["InvoiceDate"] = since // pd.Timedelta(seconds=1)  # e.g. 1293876000
    src = tmp_path / "epoch.parquet"
    frame.to_parquet(src, index=False)
    result, text = _invoke(["run", str(src), "--out", str(out), "--analyses", "rfm"])
    _assert_clean_failure(result, text, out, "InvoiceDate", "Unix timestamps", "unit='s'")


@pytest.mark.parametrize("serial", ["4054{d}", "4054{d}.5"], ids=["days", "days and time"])
def test_excel_serial_dates_are_named_as_such(tmp_path: Path, out: Path, serial: str) -> None:
    """Excel's day numbers in a CSV's date column (40544 is 2011-01-01, so the first row's
    40541 is 2010-12-29): the fix names them and how to convert them, not a --date-format
    (none can read them)."""
    src = tmp_path / "serial.csv"
    src.write_text(HEADER + _lines(date=serial))
    result, text = _invoke(["run", str(src), "--out", str(out), "--analyses", "rfm"])
    _assert_clean_failure(
        result, text, out, "InvoiceDate", "Excel serial dates", "'40541", "is 2010-12-29"
    )
    assert "origin='1899-12-30'" in " ".join(text.split()), text
    assert "e.g. --date-format" not in text, text


@pytest.mark.parametrize("command", ["run", "profile", "audit", "generate"])
@pytest.mark.parametrize("seed", ["-1", "4294967296"])
def test_a_seed_numpy_cannot_take_is_refused_up_front(
    tmp_path: Path, out: Path, command: str, seed: str
) -> None:
    """NumPy and scikit-learn take seeds 0 .. 2**32 - 1; outside them every command once ran
    until the first seeded step and died with scikit-learn's traceback."""
    src = str(_write(tmp_path, "orders.csv", HEADER + _lines()))
    args = {
        "run": ["run", src, "--out", str(out)],
        "profile": ["profile", src, "--out", str(out)],
        "audit": ["audit", src, "--segment", "Country", "--metric", "Quantity", "--out", str(out)],
        "generate": ["generate", "--out", str(out / "x.parquet")],
    }[command]
    result, text = _invoke([*args, "--seed", seed])
    _assert_clean_failure(result, text, out, "--seed", "4294967295" if seed != "-1" else "0")


def test_a_seed_out_of_range_in_the_settings_file(tmp_path: Path, out: Path) -> None:
    src = _write(tmp_path, "orders.csv", HEADER + _lines())
    config = _write(tmp_path, "custlens.toml", "seed = -3\n")
    result, text = _invoke(["run", str(src), "--out", str(out), "--config", str(config)])
    _assert_clean_failure(result, text, out, "seed", "custlens.toml")


def test_an_unknown_role_names_the_roles(tmp_path: Path, out: Path) -> None:
    src = _write(tmp_path, "customers.csv", "ID,Income\n1,5\n2,6\n")
    result, text = _invoke(["profile", str(src), "--out", str(out), "--role", "Income=money"])
    _assert_clean_failure(result, text, out, "'money' is not a role", "numeric", "categorical")


# ---------------------------------------------------------------- reading options, per command

READING_COMMANDS = ("run", "score", "profile", "audit")
READING_OPTIONS = {
    "--table", "--sheet", "--no-header", "--columns", "--delimiter", "--decimal", "--encoding",
}  # fmt: skip


def _options_of(command: str) -> set[str]:
    import typer.main

    params = typer.main.get_command(app).commands[command].params  # type: ignore[attr-defined]
    return {name for p in params for name in p.opts if name.startswith("--")}


@pytest.fixture(scope="module")
def models_dir(tmp_path_factory) -> Path:
    """A small models folder for `custlens score` (it checks the models before reading)."""
    from custlens.config import CleaningConfig, ModelsConfig
    from custlens.datasets.synthetic import synthetic
    from custlens.io.clean import clean
    from custlens.io.load import load
    from custlens.models.persist import save_models
    from custlens.models.scoring import fit_final

    cleaned = clean(load(synthetic(300, seed=4).orders).table, CleaningConfig())
    models, _ = fit_final(cleaned.purchases, cleaned.returns, config=ModelsConfig(n_estimators=10))
    return save_models(models, tmp_path_factory.mktemp("m") / "models")


def _command(command: str, source: Path, out: Path, models: Path) -> list[str]:
    if command == "score":
        return ["score", str(models), str(source), "--out", str(out)]
    if command == "audit":
        return ["audit", str(source), "--segment", "seg", "--metric", "m", "--out", str(out)]
    return [command, str(source), "--out", str(out)]


def test_every_reading_command_has_every_reading_option() -> None:
    for command in READING_COMMANDS:
        assert _options_of(command) >= READING_OPTIONS, command
    assert "--date-format" in _options_of("run") and "--date-format" in _options_of("score")


def _control_character_header(tmp_path: Path) -> tuple[Path, list[str], str]:
    path = tmp_path / "ctl.csv"
    path.write_text("Customer\x01ID,seg,m\n1,a,2\n", encoding="utf-8")
    return path, [], "--no-header"


def _option_for_another_source(tmp_path: Path) -> tuple[Path, list[str], str]:
    import pyarrow as pa
    import pyarrow.parquet as pq

    path = tmp_path / "t.parquet"
    pq.write_table(pa.table({"id": ["1"], "seg": ["a"], "m": [2.0]}), path)
    return path, ["--decimal", ","], "['decimal'] do not apply"


def _ragged_line(tmp_path: Path) -> tuple[Path, list[str], str]:
    path = _write(tmp_path, "ragged.csv", "id,seg,m\n1,a,2\n2,b,3,4\n3,a,5\n")
    return path, [], "--delimiter/--encoding"


READ_ERRORS = {
    "control character in the header": _control_character_header,
    "option for another kind of source": _option_for_another_source,
    "ragged line": _ragged_line,
}


@pytest.mark.parametrize("command", READING_COMMANDS)
def test_read_errors_name_only_options_the_command_has(
    command: str, tmp_path: Path, models_dir: Path
) -> None:
    for case, make in READ_ERRORS.items():
        folder = tmp_path / case.replace(" ", "_")
        folder.mkdir()
        out = folder / "results"
        source, extra, needle = make(folder)
        result, text = _invoke([*_command(command, source, out, models_dir), *extra])
        _assert_clean_failure(result, text, out, needle)
        named = set(re.findall(r"(?<![\w-])--[a-z][a-z-]*", text))
        assert named, (case, text)  # the fix names options...
        assert named <= _options_of(command), (case, named - _options_of(command), text)


def test_report_on_a_file_says_it_is_not_a_results_folder(tmp_path: Path) -> None:
    """`custlens report orders.csv` (or the run.json inside a results folder) once said
    "[Errno 20] Not a directory: 'orders.csv/run.json'" and told to run custlens run again."""
    folder = tmp_path / "results"
    folder.mkdir()
    marker = folder / "run.json"
    marker.write_text("{}", encoding="utf-8")
    orders = tmp_path / "orders.csv"
    orders.write_text(HEADER + _lines(), encoding="utf-8")
    cases = {
        marker: (
            "is a file, not a results folder",
            f"pass the folder that holds it: {str(folder)!r}",
        ),
        orders: ("is a file, not a results folder", "finished custlens run"),
        tmp_path / "missing": ("does not exist", "finished custlens run"),
    }
    for path, needles in cases.items():
        before = {p: p.read_bytes() for p in (marker, orders)}
        result, text = _invoke(["report", str(path)])
        _assert_clean_failure(result, text, tmp_path / "no-output", *needles)
        assert "Not a directory" not in text and "run custlens run again" not in text, text
        assert {p: p.read_bytes() for p in (marker, orders)} == before
        assert sorted(p.name for p in folder.iterdir()) == ["run.json"]
