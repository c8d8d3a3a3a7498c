"""The classic CDNOW evaluation through the CLI: calibrate on weeks 1-39, predict weeks 40-78.

There is no labelled period for LightGBM before the 1997-09-30 cutoff with a 39-week horizon,
so the BTYD models and the baselines are evaluated alone. The estimates are checked against the
published ones (Fader, Hardie & Lee 2005: BG/NBD; their MATLAB note: Pareto/NBD) and the
diagnostics against independent DuckDB counts of the raw file.
"""

from __future__ import annotations

import gzip
import json
from pathlib import Path

import duckdb
import pandas as pd
import pytest
from typer.testing import CliRunner

from custlens.cli import app

BG = {"r": 0.243, "alpha": 4.414, "a": 0.793, "b": 2.426}  # weeks
PARETO = {"r": 0.553, "alpha": 10.578, "s": 0.606, "beta": 11.669}  # weeks


@pytest.fixture(scope="module")
def cdnow_run(cdnow_path: Path, tmp_path_factory) -> Path:
    folder = tmp_path_factory.mktemp("cdnow")
    master = folder / "CDNOW_sample.txt"  # the master file's layout: id, yyyymmdd, cds, dollars
    with gzip.open(cdnow_path, "rt") as src:
        rows = pd.read_csv(src)
    master.write_text(
        "".join(
            f"{r.sample_id} {r.date.replace('-', '')} {r.cds} {r.dollars}\n"
            for r in rows.itertuples()
        )
    )
    out = folder / "results"
    args = [
        "run", str(master), "--no-header", "--columns", "customer,date,cds,amount",
        "--cutoff", "1997-09-30", "--horizon", "39w", "--analyses", "predictions",
        "--out", str(out),
    ]  # fmt: skip
    result = CliRunner().invoke(app, args)
    assert result.exit_code == 0, (result.stdout or "") + repr(result.exception)
    return out


def _metrics(out: Path) -> dict:
    return json.loads((out / "predictions" / "metrics.json").read_text())


def test_lightgbm_is_skipped_with_a_note(cdnow_run):
    m = _metrics(cdnow_run)
    assert "LightGBM skipped" in m["lightgbm_skipped"]
    assert any("LightGBM skipped" in n for n in m["notes"])
    assert {"btyd", "last_period", "recency"} <= set(m["churn"])
    assert m["periods"]["horizon_days"] == 273
    card = (cdnow_run / "models.md").read_text()
    assert "Pareto/NBD" in card and "BG/NBD" in card


def test_published_estimates_from_the_cli(cdnow_run):
    # 8 customers whose only lines have a zero price are removed by cleaning (2,349 of 2,357)
    btyd = _metrics(cdnow_run)["btyd"]
    for name, value in BG.items():
        got = btyd["bgnbd"]["params"][name] / (7 if name == "alpha" else 1)
        assert got == pytest.approx(value, rel=0.01), name
    for name, value in PARETO.items():
        got = btyd["pareto_nbd"]["params"][name] / (7 if name in ("alpha", "beta") else 1)
        assert got == pytest.approx(value, rel=0.01), name
    assert btyd["chosen"] in ("bgnbd", "pareto_nbd")


def test_diagnostics_match_independent_counts(cdnow_run, cdnow_path):
    counts = duckdb.sql(
        f"""
        with d as (select distinct sample_id as c, date::date as day
                   from read_csv('{cdnow_path}') where dollars > 0),
        f as (select c, min(day) as first from d group by c),
        j as (select d.c, d.day, f.first from d join f using (c)
              where f.first <= DATE '1997-09-30')
        select c,
          count(*) filter (where day > first and day <= DATE '1997-09-30') as x,
          count(*) filter (where day > DATE '1997-09-30' and day <= DATE '1998-06-30') as holdout
        from j group by c"""
    ).df()
    counts["bucket"] = counts["x"].clip(upper=7)
    expected = counts.groupby("bucket").agg(customers=("c", "size"), total=("holdout", "sum"))
    table = pd.read_csv(cdnow_run / "predictions" / "btyd_by_frequency.csv")
    assert table["calibration_repeats"].astype(str).tolist() == [*map(str, range(7)), "7+"]
    assert table["customers"].tolist() == expected["customers"].tolist()
    assert table["actual_total"].tolist() == expected["total"].astype(float).tolist()
    track = pd.read_csv(cdnow_run / "predictions" / "btyd_tracking.csv")
    assert (track["unit"] == "week").all() and len(track) == 78
    calibration = track[track["phase"] == "calibration"]
    assert calibration["actual_cumulative"].iloc[-1] == counts["x"].sum()
    assert track["actual_cumulative"].iloc[-1] == counts["x"].sum() + counts["holdout"].sum()
    assert track["predicted_cumulative"].is_monotonic_increasing
    # expected totals are in the right range (the models fit: within 15% at both ends)
    for frame in (calibration, track):
        end = frame.iloc[-1]
        assert end["predicted_cumulative"] == pytest.approx(end["actual_cumulative"], rel=0.15)
