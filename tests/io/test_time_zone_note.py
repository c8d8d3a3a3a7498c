"""Time-zone-aware order times: the note says which clock the hours of day are on."""

from __future__ import annotations

import pandas as pd

from custlens.io import load


def test_aware_times_are_said_to_be_on_utc_clock(tmp_path):
    # 10:00 in Berlin is 09:00 UTC in January and 08:00 UTC in July (summer time)
    times = pd.to_datetime(["2024-01-05 10:00", "2024-07-05 10:00"]).tz_localize("Europe/Berlin")
    path = tmp_path / "tz.parquet"
    pd.DataFrame({"CustomerID": ["a", "b"], "InvoiceDate": times, "Amount": [1.0, 2.0]}).to_parquet(
        path
    )
    src = load(path)
    hours = [t.hour for t in src.table.order_ts.execute()]
    assert hours == [9, 8]
    [note] = [n for n in src.notes if "time-zone-aware" in n]
    assert "converted to UTC time, so hours of day and weekdays are UTC's" in note
    assert "session time zone applies" not in note
