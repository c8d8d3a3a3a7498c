"""Small checks shared by every layer; they raise the project's errors with what, where and fix."""

from __future__ import annotations

from datetime import date, datetime

from custlens.errors import ConfigError, CustlensError


def as_date(
    value: object,
    name: str,
    *,
    where: str | None = None,
    fix: str = "give an ISO date such as 2011-12-10 (YYYY-MM-DD)",
    error: type[CustlensError] = ConfigError,
) -> date:
    """A date from a date, a datetime or pandas Timestamp (its date), or ISO text."""
    if isinstance(value, datetime):  # pandas.Timestamp is a datetime too
        return value.date()
    if isinstance(value, date):
        return value
    if isinstance(value, str):
        try:
            return date.fromisoformat(value.strip()[:10])
        except ValueError:
            pass
    raise error(f"{name} {value!r} is not a date", where=where or name, fix=fix)
