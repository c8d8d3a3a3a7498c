"""One number format for readable text: "typical" values in reasons, rule thresholds, audit text.

Every sentence that shows a customer-feature value to a person goes through :func:`format_number`,
so a value reads the same in an anomaly reason, a persona rule and the segmentation audit.
"""

from __future__ import annotations

import math

__all__ = ["format_number"]


def format_number(x: float | int | None) -> str:
    """A compact rendering of one value for text meant to be read.

    Whole numbers with thousands separators from 100 on, one decimal from 10 (a trailing
    ``.0`` dropped), three significant digits below 10; a missing value reads ``"missing"``.

    Parameters
    ----------
    x : float, int or None
        The value.

    Returns
    -------
    str
        The value as text.

    Examples
    --------
    >>> [format_number(v) for v in (152300, 3400.5, 650, 12.25, 12.0, 4.5, 0.125, float("nan"))]
    ['152,300', '3,400', '650', '12.2', '12', '4.5', '0.125', 'missing']
    """
    if x is None or (isinstance(x, float) and math.isnan(x)):
        return "missing"
    ax = abs(x)
    if ax >= 100:
        return f"{x:,.0f}"
    if ax >= 10:
        return f"{x:.1f}".removesuffix(".0")
    return f"{x:.3g}"
