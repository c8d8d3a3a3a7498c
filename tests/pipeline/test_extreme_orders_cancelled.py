"""The anomalies stage's extreme orders say how much of each was cancelled afterwards, and the
report's caption counts the orders cancelled wholly and in part (by hand)."""

from __future__ import annotations

import pandas as pd
import pytest

from custlens.pipeline.stages.anomalies import _with_cancelled
from custlens.pipeline.stages.sections import _cancelled_caption


def test_cancelled_value_and_share_by_hand():
    orders = pd.DataFrame({"order_id": ["1", "2", "3"], "value": [200.0, 80.0, 50.0]})
    out = _with_cancelled(orders, {"1": 50.0, "3": 50.0})
    assert out["cancelled_value"].tolist() == [50.0, 0.0, 50.0]
    assert out["cancelled_share"].tolist() == pytest.approx([0.25, 0.0, 1.0])
    caption = _cancelled_caption(out)
    assert "1 wholly" in caption and "1 in part" in caption
    none = _cancelled_caption(_with_cancelled(orders, {}))
    assert none == " None of the listed orders was cancelled afterwards."
