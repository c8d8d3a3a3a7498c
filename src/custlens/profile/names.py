"""The column names ``custlens profile`` adds, and input columns renamed so that none is lost.

The customer table a profile writes holds the user's columns beside the ones the profile adds
(``persona``, ``cluster``, the scores, every derived feature). A user's column with one of those
names (e.g. labels from an earlier segmentation called ``persona``, or their own ``age``) is
kept under ``<name>_input`` (``_input2``, ... when that is taken too), with a note; a role
override or categorical feature naming it follows the rename.
"""

from __future__ import annotations

import pandas as pd

from custlens.config.profile import ProfileConfig
from custlens.profile.derived import CATALOG

__all__ = ["ADDED_COLUMNS", "keep_user_columns", "profile_column_names"]

# columns the pipeline adds besides the derived features and the scores
ADDED_COLUMNS = ("persona", "cluster", "persona_outlier", "row_id")
_PREFIXES = tuple(item.name.split("<")[0] for item in CATALOG if "<" in item.name)


def profile_column_names(config: ProfileConfig) -> set[str]:
    """Every fixed column name a profile may add (the ``<x>`` families are checked by prefix).

    >>> names = profile_column_names(ProfileConfig())
    >>> sorted(n for n in names if "score" in n)  # doctest: +NORMALIZE_WHITESPACE
    ['f_score', 'loyalty_score', 'm_score', 'r_score', 'rfm_score']
    """
    names = {n.strip() for item in CATALOG if "<" not in item.name for n in item.name.split(",")}
    return names | set(ADDED_COLUMNS) | {spec.name for spec in config.scores}


def _taken(name: str, reserved: set[str]) -> bool:
    return name in reserved or name.startswith(_PREFIXES)


def keep_user_columns(
    raw: pd.DataFrame, config: ProfileConfig
) -> tuple[pd.DataFrame, ProfileConfig, list[str]]:
    """Rename the columns of ``raw`` that a profile would add itself; return the renamed table,
    the config with its role overrides and categorical features following the renames, and a
    note per renamed column.

    >>> raw = pd.DataFrame({"ID": [1, 2], "persona": ["a", "b"], "Income": [1.0, 2.0]})
    >>> renamed, _, notes = keep_user_columns(raw, ProfileConfig())
    >>> list(renamed.columns)
    ['ID', 'persona_input', 'Income']
    """
    reserved = profile_column_names(config)
    present = {str(c) for c in raw.columns}
    renames: dict[str, str] = {}
    for column in map(str, raw.columns):
        if not _taken(column, reserved):
            continue
        new, n = f"{column}_input", 1
        while new in present or new in reserved:
            n += 1
            new = f"{column}_input{n}"
        present.add(new)
        renames[column] = new
    if not renames:
        return raw, config, []
    notes = [
        f"input column {old!r} kept as {new!r}: the profile writes a column {old!r} of its own"
        for old, new in renames.items()
    ]
    update: dict[str, object] = {"roles": {renames.get(c, c): r for c, r in config.roles.items()}}
    if config.categorical_features is not None:
        update["categorical_features"] = [renames.get(c, c) for c in config.categorical_features]
    out = raw.rename(columns={c: renames[str(c)] for c in raw.columns if str(c) in renames})
    return out, config.model_copy(update=update), notes
