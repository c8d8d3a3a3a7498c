"""Constructor parameters of the custlens estimators, checked the scikit-learn way.

Each estimator declares ``_parameter_constraints`` (scikit-learn's constraint objects) and calls
:func:`validate_parameters` at the start of ``fit``. scikit-learn's ``InvalidParameterError``
becomes a :class:`~custlens.errors.ConfigError`, so users meet one error family.
"""

from __future__ import annotations

import re

from sklearn.base import BaseEstimator
from sklearn.utils._param_validation import InvalidParameterError

from custlens.errors import ConfigError

_PARAM_NAME = re.compile(r"The '(\w+)' parameter")


def validate_parameters(estimator: BaseEstimator) -> None:
    """Check ``estimator``'s parameters against its ``_parameter_constraints``.

    Raises
    ------
    ConfigError
        When a parameter has a type or value outside its constraints; the message is
        scikit-learn's (what is allowed, what was given).
    """
    try:
        estimator._validate_params()
    except InvalidParameterError as exc:
        kind = type(estimator).__name__
        found = _PARAM_NAME.search(str(exc))
        name = found.group(1) if found else None
        raise ConfigError(
            str(exc),
            where=f"{kind}({name}=...)" if name else kind,
            fix=f"pass a value the message allows (see help({kind}) for every parameter)",
        ) from None
