"""Silently wrong values become counted cleaning rules: empty and implausible dates, NaN,
infinite and absurd numbers. Expected counts are written by hand from the generated lines."""

from __future__ import annotations

import json
import math
from datetime import date, datetime
from pathlib import Path

import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from typer.testing import CliRunner

from custlens.cli import app
from custlens.config import CleaningConfig, MappingConfig
from custlens.io.clean import clean
from custlens.io.load import load

GOOD_CUSTOMERS = 8


def _good_lines() -> list[dict]:
    return [
        {
            "Customer": f"c{c}",
            "Order": f"o{c}-{d}",
            "Date": f"2011-0{d}-1{c % 9} 10:00:00",
            "Quantity": d,
            "Price": 2.5,
        }
        for c in range(GOOD_CUSTOMERS)
        for d in range(1, 4)
    ]


def _bad(customer: str, **values) -> dict:
    line = {"Customer": customer, "Order": f"b-{customer}", "Date": "2011-02-01 10:00:00"}
    return {**line, "Quantity": 1, "Price": 3.0, **values}


BAD_DATES = [
    _bad("d-empty", Date=None),
    _bad("d-9999", Date="9999-12-31 10:00:00"),
    _bad("d-0001", Date="0001-01-01 00:00:00"),
    _bad("d-1969", Date="1969-12-31 23:00:00"),
    _bad("d-2200", Date="2200-01-01 00:00:00"),
]
BAD_NUMBERS = [
    _bad("n-missing-qty", Quantity=None),
    _bad("n-nan-price", Price=math.nan),
    _bad("n-inf-price", Price=math.inf),
    _bad("n-nan-qty", Quantity=math.nan),
    _bad("n-inf-qty", Quantity=math.inf),
    _bad("n-huge-qty", Quantity=1e308),
    _bad("n-huge-price", Price=1e20),
]


def _arrow(lines: list[dict]) -> pa.Table:
    """Arrow keeps NaN as NaN (pandas would make it missing) and dates in year 1 or 9999."""
    parse = lambda v: None if v is None else datetime.fromisoformat(v)  # noqa: E731
    return pa.table(
        {
            "Customer": [line["Customer"] for line in lines],
            "Order": [line["Order"] for line in lines],
            "Date": pa.array([parse(line["Date"]) for line in lines], pa.timestamp("us")),
            "Quantity": pa.array(
                [None if line["Quantity"] is None else float(line["Quantity"]) for line in lines],
                pa.float64(),
            ),
            "Price": pa.array([float(line["Price"]) for line in lines], pa.float64()),
        }
    )


def _report(lines: list[dict], **config):
    frame = _arrow(lines)
    columns = {"order_ts": "Date", "customer_id": "Customer", "order_id": "Order"}
    columns |= {"quantity": "Quantity", "unit_price": "Price"}
    src = load(frame, mapping=MappingConfig(columns=columns))
    return clean(src.table, CleaningConfig(**config))


def test_empty_and_implausible_dates_are_counted() -> None:
    cleaned = _report(_good_lines() + BAD_DATES)
    rule = cleaned.report.rule("implausible_date")
    assert rule.rows == len(BAD_DATES)
    assert rule.customers == len(BAD_DATES)  # each bad customer had only that line
    assert rule.revenue == pytest.approx(3.0 * len(BAD_DATES))
    assert cleaned.report.rows_out == 3 * GOOD_CUSTOMERS
    customers = cleaned.purchases.customer_id.nunique().execute()
    assert customers == GOOD_CUSTOMERS


def test_the_plausible_window_is_a_setting() -> None:
    cleaned = _report(
        _good_lines() + BAD_DATES,
        plausible_from=date(1, 1, 1),
        plausible_to=date(9999, 12, 31),
    )
    assert cleaned.report.rule("implausible_date").rows == 1  # only the empty date


@pytest.mark.parametrize("mode", ["default", "minimal"])
def test_non_finite_and_absurd_numbers_are_counted(mode: str) -> None:
    cleaned = _report(_good_lines() + BAD_NUMBERS, mode=mode)
    report = cleaned.report
    # a NaN price is not "zero or negative": only the numbers rule removes it
    assert report.rule("invalid_numbers").rows == len(BAD_NUMBERS)
    assert report.rows_out == 3 * GOOD_CUSTOMERS
    assert math.isfinite(report.revenue_in) and math.isfinite(report.revenue_out)
    assert report.revenue_out == pytest.approx(2.5 * (1 + 2 + 3) * GOOD_CUSTOMERS)
    json.dumps(report.to_dict(), allow_nan=False)


def test_only_implausible_dates_is_an_error() -> None:
    from custlens.errors import DataError

    with pytest.raises(DataError, match="implausible_date"):
        _report(BAD_DATES[1:])


def test_the_cli_writes_strict_json_and_finite_monetary(tmp_path: Path) -> None:
    lines = _good_lines() + BAD_NUMBERS + BAD_DATES
    path = tmp_path / "orders.parquet"
    pq.write_table(_arrow(lines), path)
    out = tmp_path / "res"
    result = CliRunner().invoke(
        app,
        ["run", str(path), "--out", str(out), "--analyses", "rfm", "-q"]
        + ["--map", "order_ts=Date", "--map", "unit_price=Price", "--map", "order_id=Order"],
    )
    assert result.exit_code == 0, (result.stdout or "") + (result.stderr or "")
    text = (out / "quality.json").read_text()
    quality = json.loads(text, parse_constant=lambda c: pytest.fail(f"bare {c} in quality.json"))
    rules = {r["rule"]: r for r in quality["rules"]}
    assert rules["invalid_numbers"]["rows"] == len(BAD_NUMBERS)
    assert rules["implausible_date"]["rows"] == len(BAD_DATES)
    customers = pd.read_parquet(out / "customers.parquet")
    assert len(customers) == GOOD_CUSTOMERS
    assert customers["monetary"].map(math.isfinite).all()
    assert customers["tenure_days"].max() < 400


def test_library_warnings_of_a_stage_become_notes() -> None:
    import warnings

    from custlens.pipeline.notices import routed_warnings

    notes: list[str] = []
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # nothing may escape to stderr
        with routed_warnings("predictions", notes):
            warnings.warn("Hessian matrix not positive definite", RuntimeWarning, stacklevel=1)
            warnings.warn("overflow encountered in exp", RuntimeWarning, stacklevel=1)
            warnings.warn("overflow encountered in exp", RuntimeWarning, stacklevel=1)
    assert len(notes) == 2
    assert "did not converge cleanly" in notes[0]
    assert "overflowed" in notes[1]
