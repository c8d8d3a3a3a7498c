"""``ReadOptions.decimal`` (``--decimal``): numbers written with a decimal comma in a delimited
file are read as numbers by DuckDB's CSV reader; the option is refused where it cannot apply."""

from __future__ import annotations

from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from custlens.errors import ConfigError, InputError
from custlens.io.load import load
from custlens.io.options import ReadOptions
from custlens.io.readers import read_table

EUROPEAN = "kunde;umsatz;besuche\nk1;2,55;3\nk2;-0,5;1\nk3;1000,25;7\n"


def _write(path: Path, text: str) -> Path:
    path.write_text(text, encoding="utf-8")
    return path


def test_decimal_comma_columns_are_read_as_numbers(tmp_path: Path) -> None:
    path = _write(tmp_path / "kunden.csv", EUROPEAN)
    frame = read_table(path, ReadOptions(decimal=",")).table.to_pandas()
    assert frame["umsatz"].dtype == "float64"
    assert frame["umsatz"].tolist() == [2.55, -0.5, 1000.25]
    assert frame["besuche"].tolist() == [3, 1, 7]
    # without the option the same column is text (what the option is for)
    plain = read_table(path).table.to_pandas()
    assert plain["umsatz"].tolist() == ["2,55", "-0,5", "1000,25"]


def test_decimal_with_an_explicit_delimiter_and_in_load(tmp_path: Path) -> None:
    path = _write(
        tmp_path / "orders.csv",
        "kunde;datum;betrag\nk1;2021-03-01;2,50\nk1;2021-03-09;10,25\nk2;2021-03-02;0,75\n",
    )
    options = ReadOptions(delimiter=";", decimal=",")
    src = load(path, options=options)
    amounts = src.table.order_by(["customer_id", "order_ts"]).amount.execute().tolist()
    assert amounts == [2.5, 10.25, 0.75]


@pytest.mark.parametrize(
    ("options", "said"),
    [
        ({"decimal": ";"}, "is not a decimal separator"),
        ({"decimal": ",", "delimiter": ","}, "both ','"),
    ],
    ids=["not a separator", "same as the delimiter"],
)
def test_bad_decimal_options_are_config_errors(options: dict, said: str) -> None:
    with pytest.raises(ConfigError, match=said) as info:
        ReadOptions(**options)
    assert "--decimal" in info.value.where and "--decimal" in info.value.fix


def test_decimal_is_refused_where_it_cannot_apply(tmp_path: Path) -> None:
    parquet = tmp_path / "k.parquet"
    pq.write_table(pa.table({"kunde": ["k1"], "umsatz": [2.5]}), parquet)
    with pytest.raises(InputError, match=r"\['decimal'\] do not apply") as info:
        read_table(parquet, ReadOptions(decimal=","))
    assert "--decimal" in info.value.fix
    log = _write(tmp_path / "cdnow.txt", "00001 19970101 1 11.77\n00002 19970102 2 3.5\n")
    options = ReadOptions(no_header=True, columns="id,date,n,amount", decimal=",")
    with pytest.raises(InputError, match=r"\['decimal'\] do not apply") as info:
        read_table(log, options)
    assert "separated by spaces" in info.value.fix


def test_spark_refuses_decimal_before_a_session_starts(tmp_path: Path) -> None:
    from custlens.io.spark_session import check_spark_source

    path = _write(tmp_path / "kunden.csv", EUROPEAN)
    with pytest.raises(InputError, match="on Spark") as info:
        check_spark_source(str(path), ReadOptions(decimal=","))
    assert "drop --decimal" in info.value.fix
