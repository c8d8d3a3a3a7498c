"""A run note when the chosen BTYD model's purchase days over the backtest's future period miss
the actual ones by more than the tolerance (Online Retail: the holdout holds the Christmas peak)."""

from __future__ import annotations

from datetime import date

from custlens.models.btyd_evaluation import level_note

CUTOFF = date(2011, 9, 10)


def _btyd(predicted: float, actual: float) -> dict:
    return {"chosen": "bgnbd", "bgnbd": {"holdout_predicted": predicted, "holdout_actual": actual}}


def test_a_model_that_predicts_too_few_purchases_says_so_with_the_numbers() -> None:
    note = level_note(_btyd(3283.4, 4445.0), 0.15, CUTOFF, 90)
    # 4445 / 3283.4 - 1 = 0.3538 -> 35% more
    assert note is not None
    assert note.startswith(
        "predictions: the BG/NBD model predicted 3,283 purchase days of the backtest's customers "
        "in the 90 days after 2011-09-10; they bought on 4,445 (35% more), so its purchase "
        "counts and CLV run low on these data"
    )


def test_too_many_purchases_read_high_and_a_close_model_gets_no_note() -> None:
    note = level_note(_btyd(1000.0, 700.0), 0.15, CUTOFF, 90)
    assert note is not None and "(30% fewer), so its purchase counts and CLV run high" in note
    assert level_note(_btyd(1000.0, 1150.0), 0.15, CUTOFF, 90) is None  # 15%: within
    assert level_note(_btyd(1000.0, 849.0), 0.15, CUTOFF, 90) is not None  # 15.1% fewer
    assert level_note({"chosen": None}, 0.15, CUTOFF, 90) is None  # no model fitted
    assert level_note(_btyd(0.0, 5.0), 0.15, CUTOFF, 90) is None
