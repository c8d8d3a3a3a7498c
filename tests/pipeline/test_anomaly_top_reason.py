"""The anomalies section's top reason is read from the machine-readable reasons."""

from __future__ import annotations

import pandas as pd

from custlens.config.report import DEFAULT_REASON_PHRASES
from custlens.pipeline.stages.sections import _top_reason


def test_top_reason_reads_the_feature_names_and_raw_values():
    flagged = pd.DataFrame(
        {
            "anomaly_reasons": [
                "spent 152,300 (typical 650); 2 orders (typical 2)",
                "spent 90,000 (typical 650)",
                "12 orders (typical 2)",
            ],
            "anomaly_reason_features": [
                "monetary 152300 (typical 650); frequency 2 (typical 2)",
                "monetary 90000 (typical 650)",
                "frequency 12 (typical 2)",
            ],
        }
    )
    # first reasons: monetary high twice, frequency high once -> 2 of 3
    reason, share = _top_reason(flagged, DEFAULT_REASON_PHRASES)
    assert reason == "spend far more than most"
    assert share == 2 / 3


def test_top_reason_of_a_folder_written_before_the_words():
    # older runs have only anomaly_reasons, with feature names and raw values
    flagged = pd.DataFrame(
        {
            "anomaly_reasons": [
                "return_rate 0.5 (typical 0)",
                "returned_items_share 1 (typical 0); frequency 12 (typical 2)",
                "frequency 12 (typical 2)",
                "",
            ]
        }
    )
    # both return features say the same phrase: 2 of 4
    reason, share = _top_reason(flagged, DEFAULT_REASON_PHRASES)
    assert reason == "return an unusually large share of what they buy"
    assert share == 2 / 4
    assert _top_reason(pd.DataFrame({"customer_id": []}), DEFAULT_REASON_PHRASES) == ("", 0.0)
