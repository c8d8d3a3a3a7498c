"""What was knowable at a date: the cleaned lines before it, derived from one cleaning.

A backtest's features must come from the raw lines before its date, cleaned on their own
(``clean(lines before as_of)``): cleaning the whole period first would let a later line change an
earlier one. Re-cleaning every line for each date costs a full cleaning per date, yet almost
every rule looks at one line alone. :class:`PastLines` cleans all lines once and derives, for
each date, exactly what ``clean(lines before the date)`` gives:

- Rules 1-4 and 7-10 look at the line alone: a line before the date gets the same decision.
- Rule 5 (exact duplicates) compares identical lines, which share their timestamp: a line
  before the date and its copies are all before it.
- Rule 6 (offsetting pairs) orders the lines of one (customer, product, absolute quantity) by
  time and pairs a cancellation with the line just before it. A cancellation before the date
  looks back only at earlier lines, so the return lines before the date are those of the whole
  cleaning. A purchase before the date is paired with the line just after it, which may lie
  after the date: only there can the whole cleaning differ. Such a line is at most
  ``offsetting_window_days`` after the purchase, so the (customer, product, absolute quantity)
  groups of the negative-quantity lines in the window after the date are the only ones that can
  differ. Their lines before the date (a small part) are cleaned again on their own; every other
  purchase before the date comes from the one cleaning.

``tests/io/test_past_lines.py`` checks the result against ``clean(lines before the date)``, and
``tests/test_leakage.py`` checks that no line after the date changes a feature.
"""

from __future__ import annotations

import logging
from datetime import date, timedelta

import ibis
import ibis.expr.types as ir

from custlens.config import CleaningConfig
from custlens.io.clean import Cleaned, clean, clean_purchases

__all__ = ["PastLines"]

log = logging.getLogger(__name__)


def _group_key(t: ir.Table) -> ir.IntegerValue:
    """Hash of (customer, product, absolute quantity), the groups of the offsetting-pair rule.

    Collisions only move more lines into the part that is cleaned again (a whole group always
    moves together), so they cost time, never a different result.
    """
    parts = {"customer_id": t.customer_id, "product_id": t.product_id, "absq": t.quantity.abs()}
    return ibis.struct(parts).hash()


class PastLines:
    """``as_of -> (purchases, returns)``: what ``clean(lines before as_of)`` would give.

    Parameters
    ----------
    transactions : ibis.Table
        The canonical lines (every date).
    config : CleaningConfig
        The cleaning settings.
    cleaned : Cleaned, optional
        ``clean(transactions, config)`` when it was already computed (cleaned here otherwise,
        on first use).
    """

    def __init__(
        self, transactions: ir.Table, config: CleaningConfig, cleaned: Cleaned | None = None
    ) -> None:
        self.transactions = transactions
        self.config = config
        self._cleaned = cleaned

    @property
    def cleaned(self) -> Cleaned:
        if self._cleaned is None:
            self._cleaned = clean(self.transactions, self.config)
        return self._cleaned

    @property
    def customers_at_most(self) -> int | None:
        """At least as many customers as buy in the lines knowable at any date: the known
        customers of every line (the cleaning report's ``customers_in``) when the rule
        ``missing_customer`` removed the lines without one, else None (a blank id, not counted
        there, would be a customer)."""
        report = self.cleaned.report
        return report.customers_in if report.rule("missing_customer").enabled else None

    def _pairs_on(self) -> bool:
        on = self.config.active_rules().get("offsetting_pairs", False)
        return bool(on) and "product_id" in self.transactions.columns

    def __call__(self, as_of: date) -> tuple[ir.Table, ir.Table]:
        full = self.cleaned
        purchases, returns = full.purchases, full.returns
        past_returns = returns.filter(returns.order_ts < as_of)
        past = purchases.filter(purchases.order_ts < as_of)
        if not self._pairs_on():
            return past, past_returns
        t = self.transactions
        # a purchase before as_of (its date at most as_of - 1) pairs with a line dated at most
        # offsetting_window_days later; one day more is a harmless margin
        end = as_of + timedelta(days=self.config.offsetting_window_days + 1)
        late = t.filter(t.order_ts >= as_of, t.order_ts < end, t.quantity < 0.0)
        keys = late.select(_k=_group_key(late)).distinct().cache()
        if keys.count().to_pyarrow().as_py() == 0:
            return past, past_returns
        unchanged = past.filter(~_group_key(past).isin(keys._k))
        again = t.filter(t.order_ts < as_of, _group_key(t).isin(keys._k))
        # their purchases alone (the cleaning report of these lines is not needed)
        redone = clean_purchases(again, self.config)
        return unchanged.union(redone.select(*purchases.columns)), past_returns
