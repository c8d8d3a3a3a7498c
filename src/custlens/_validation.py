"""Small checks shared by every layer; they raise the project's errors with what, where and fix."""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from datetime import date, datetime

from custlens.errors import ConfigError, CustlensError, MappingError, NotFittedError


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


def require_columns(
    table: object,
    needed: Iterable[str],
    *,
    what: str,
    fix: str = "load the data with custlens.io.load, or map those columns explicitly",
) -> None:
    """Raise ``MappingError`` naming the columns of ``needed`` that ``table`` lacks.

    ``table`` is anything with ``.columns`` (an Ibis table, a pandas frame) or a sequence of
    column names; ``what`` names it in the message ("the purchases", "the customer table").
    This is the one required-columns check of the package, so every such error has one class.
    """
    columns = list(getattr(table, "columns", table))  # type: ignore[call-overload]
    missing = [c for c in needed if c not in columns]
    if missing:
        found = ", ".join(map(str, columns)) or "none"
        raise MappingError(
            f"{what[:1].upper()}{what[1:]} lack the column(s) {', '.join(missing)}",
            where=f"columns found: {found}",
            fix=fix,
        )


def check_fitted(estimator: object, attributes: str | Sequence[str]) -> None:
    """Raise ``NotFittedError`` unless ``estimator`` has every fitted attribute in ``attributes``.

    Fitted attributes end in ``_`` and do not exist before ``fit`` (scikit-learn's convention).
    """
    names = [attributes] if isinstance(attributes, str) else list(attributes)
    if not all(hasattr(estimator, name) for name in names):
        kind = type(estimator).__name__
        raise NotFittedError(
            f"This {kind} is not fitted yet",
            where=kind,
            fix=f"call {kind}.fit(...) before using it",
        )


def validate_params(estimator: object) -> None:
    """Check ``estimator``'s parameters against its ``_parameter_constraints`` (scikit-learn's).

    Call at the start of ``fit``. scikit-learn's ``InvalidParameterError`` becomes a
    ``ConfigError`` naming the estimator and the parameter.
    """
    from sklearn.utils._param_validation import InvalidParameterError

    kind = type(estimator).__name__
    try:
        estimator._validate_params()  # type: ignore[attr-defined]
    except InvalidParameterError as exc:
        found = re.search(r"The '(\w+)' parameter", str(exc))
        name = found.group(1) if found else "..."
        raise ConfigError(
            str(exc).rstrip("."),
            where=f"{kind}({name}=...)",
            fix=f"pass a value of the type and range described (see help({kind}))",
        ) from None
