"""What profile.md and profile.html show of the tests and campaign tables: no adjusted p-value of
0 (it underflowed), response rates in percent."""

from __future__ import annotations

import pandas as pd

from custlens.report.profile_story import shown_campaigns, shown_tests


def test_p_values_below_double_precision_read_as_such() -> None:
    tests = pd.DataFrame({"feature": ["a", "b", "c"], "p_adjusted": [0.0, 3.2e-20, 0.00234]})
    assert shown_tests(tests)["p_adjusted"].tolist() == ["< 1e-16", "< 1e-16", "0.0023"]
    assert tests["p_adjusted"].tolist()[0] == 0.0  # the table given is not changed


def test_campaign_rates_read_in_percent() -> None:
    best = pd.DataFrame(
        {
            "campaign": ["AcceptedCmp1"],
            "persona": ["Big Spenders"],
            "rate": [36 / 451],
            "ci_low": [0.0583],
            "ci_high": [0.1087],
            "base_rate": [0.0544],
            "lift": [1.466],
        }
    )
    row = shown_campaigns(best).iloc[0]
    # 36 / 451 = 0.07982 -> 8.0%
    assert (row["rate"], row["ci_low"], row["ci_high"], row["base_rate"]) == (
        "8.0%",
        "5.8%",
        "10.9%",
        "5.4%",
    )
    assert row["lift"] == 1.466
