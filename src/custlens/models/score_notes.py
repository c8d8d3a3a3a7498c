"""What the scores of ``custlens score`` are, in words: the notes its ``run.json`` and console give.

Saved models score new data on their own horizon, whatever the scoring settings say, so the
scored folder has to say which period its numbers cover; and an as-of date after the new
data's last purchase counts the days in between as days without orders, as ``run`` says too.
"""

from __future__ import annotations

from datetime import date, timedelta

from custlens.config import CleaningConfig
from custlens.models.trainer import TrainedModels


def scoring_window_note(models: TrainedModels, as_of: date, folder: str) -> str:
    """The period the scores of customers scored as of ``as_of`` with ``models`` (saved in
    ``folder``) cover, and where each score comes from.

    >>> from types import SimpleNamespace
    >>> m = SimpleNamespace(horizon_days=90, as_of=date(2011, 9, 1),
    ...     defaults={"churn": "btyd", "clv": "lightgbm"}, next_purchase=None)
    >>> note = scoring_window_note(m, date(2011, 9, 10), "res/models")
    >>> note.split(": ")[2].split(", expected")[0]  # 90 days: 2011-09-10 .. 2011-12-08
    'churn_probability is the probability of no order from 2011-09-10 to 2011-12-08'
    """
    h = models.horizon_days
    last = as_of + timedelta(days=h - 1)
    trained = f"trained as of {models.as_of}, " if models.as_of is not None else ""
    churn = models.defaults.get("churn", "lightgbm")
    clv = models.defaults.get("clv", "lightgbm")
    window = (
        f", next_purchase_window counts days from {as_of}"
        if models.next_purchase is not None
        else " (no next-purchase model: no next_purchase_window)"
    )
    return (
        f"predictions: scores as of {as_of} with the models of {folder} ({trained}horizon "
        f"{h} days): churn_probability is the probability of no order from {as_of} to {last}, "
        f"expected_purchases and clv (discounted, in the data's money units) cover the same "
        f"{h} days{window}; default scorers: churn = {churn}, CLV = {clv}"
    )


def after_data_note(as_of: date, last_purchase: date) -> str | None:
    """The note when ``as_of`` comes more than a day after ``last_purchase`` (the days in
    between count as days without orders), else None.

    >>> after_data_note(date(2011, 9, 10), date(2011, 9, 9)) is None
    True
    >>> after_data_note(date(2011, 10, 15), date(2011, 9, 9))[:70]
    'predictions: the as-of date 2011-10-15 comes 36 days after the last pu'
    """
    after = (as_of - last_purchase).days
    if after <= 1:
        return None
    return (
        f"predictions: the as-of date {as_of} comes {after} days after the last purchase "
        f"({last_purchase}): every customer's scores count the {after - 1} days in between as "
        "days without orders; if orders after the last purchase exist but are missing from "
        "the data, churn is overstated and CLV understated (use data up to the as-of date, or "
        "leave --as-of unset)"
    )


# new data whose median average order value is this many times the training customers' (or
# as many times smaller) are on another money scale, e.g. cents against euros
MONEY_SCALE_FACTOR = 10.0


def money_scale_note(train_median: float | None, new_median: float) -> str | None:
    """The note when the new data's median average order value ``new_median`` is at least
    ``MONEY_SCALE_FACTOR`` times the training customers' ``train_median`` or at most its
    ``1 / MONEY_SCALE_FACTOR``, else None (also when either is unknown or not positive).

    >>> money_scale_note(16.0, 1600.0).split(": ")[1]
    "the customers' median average order value is 1,600.00, against 16.00 for the customers the models learned from (100 times as much)"
    >>> money_scale_note(16.0, 40.0) is None
    True
    """
    if train_median is None or not train_median > 0 or not new_median > 0:
        return None
    ratio = new_median / train_median
    if 1 / MONEY_SCALE_FACTOR < ratio < MONEY_SCALE_FACTOR:
        return None
    times = f"{ratio:,.0f} times as much" if ratio >= 1 else f"{1 / ratio:,.0f} times less"
    return (
        f"predictions: the customers' median average order value is {new_median:,.2f}, "
        f"against {train_median:,.2f} for the customers the models learned from ({times}): "
        "another currency or unit? The LightGBM scores do not scale with money (trees cannot "
        "extrapolate): their CLV and next-purchase window are not to be trusted; convert the "
        "amounts to the training data's unit, or train on these data"
    )


# the cleaning rules that change which lines a customer's features count (the date and country
# filters choose the data and the last two rules always run)
FEATURE_RULES = (
    "missing_customer",
    "cancellations_and_returns",
    "nonpositive_price",
    "non_product",
    "exact_duplicates",
    "offsetting_pairs",
)


def feature_rules(config: CleaningConfig) -> dict[str, bool]:
    """Which of ``FEATURE_RULES`` the cleaning ``config`` runs."""
    active = config.active_rules()
    return {rule: bool(active[rule]) for rule in FEATURE_RULES}


def cleaning_note(trained: dict[str, bool] | None, config: CleaningConfig) -> str | None:
    """The note when the rules of the scoring ``config`` differ from ``trained``, the rules
    the models' training data were cleaned with (None: unknown, not checked), else None.

    >>> trained = feature_rules(CleaningConfig(mode="minimal"))
    >>> cleaning_note(trained, CleaningConfig()).split("; ")[0]
    "predictions: these data were cleaned with other rules than the models' training data: non_product on (training: off), exact_duplicates on (training: off), offsetting_pairs on (training: off)"
    >>> cleaning_note(trained, CleaningConfig(mode="minimal")) is None
    True
    """
    if trained is None:
        return None
    here = feature_rules(config)
    differ = [rule for rule in FEATURE_RULES if rule in trained and trained[rule] != here[rule]]
    if not differ:
        return None
    word = {True: "on", False: "off"}
    listed = ", ".join(f"{r} {word[here[r]]} (training: {word[trained[r]]})" for r in differ)
    fix = next(
        (
            f"--cleaning {mode}"
            for mode in ("default", "minimal")
            if feature_rules(CleaningConfig(mode=mode)) == trained
        ),
        "the training run's [cleaning] rules in --config",
    )
    return (
        f"predictions: these data were cleaned with other rules than the models' training "
        f"data: {listed}; the customers' features count other lines than the models learned "
        f"from, so the scores shift: score with {fix}"
    )
