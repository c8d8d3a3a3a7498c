"""Score the customers of new data with the models an earlier run saved."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

import pandas as pd

from custlens.config import Settings, load_settings
from custlens.errors import ConfigError, MappingError
from custlens.features.catalog import FEATURES, RETURNS
from custlens.io.options import ReadOptions
from custlens.pipeline.results import Results, SourceInfo
from custlens.pipeline.run import StageCallback, prepare
from custlens.pipeline.stages.predictions import align_scores, history_of


def score(
    models_dir: str | Path,
    source: Any,
    *,
    settings: Settings | None = None,
    config_path: str | Path | None = None,
    read: ReadOptions | None = None,
    con: Any = None,
    on_stage: StageCallback | None = None,
) -> Results:
    """Score every customer of ``source`` with the models saved in ``models_dir``.

    The models folder is checked (manifest, versions, hashes, schema) before any data is read.

    Parameters
    ----------
    models_dir : str or pathlib.Path
        The ``models/`` folder of an earlier ``custlens run``.
    source : str, pathlib.Path, pandas.DataFrame, pyarrow.Table or ibis.Table
        New order lines, in any layout ``custlens.load`` reads.
    settings, config_path, read, con, on_stage
        As in :func:`custlens.run` (``settings.as_of`` sets the scoring date).

    Returns
    -------
    Results
        The customer table with ``churn_probability``, ``clv``, ``p_alive`` and the other score
        columns, and no analysis stages.

    Raises
    ------
    ConfigError
        ``models_dir`` is not a folder.
    ModelError
        The saved models are missing, tampered with, or from incompatible versions.
    InputError, MappingError, DataError
        As in :func:`custlens.run`.

    Examples
    --------
    >>> import tempfile, custlens
    >>> from custlens.models import save_models
    >>> orders = custlens.datasets.synthetic(600, seed=3).orders
    >>> fitted = custlens.run(orders, settings=custlens.Settings(analyses=["predictions"]))
    >>> folder = save_models(fitted.stages["predictions"].models, tempfile.mkdtemp() + "/m")
    >>> scored = score(folder, orders)
    >>> bool(scored.customers["churn_probability"].between(0, 1).all())
    True
    """
    from custlens.models.backtest import data_range
    from custlens.models.confidence import (
        beyond_training_summary,
        p_alive_note,
        withheld_reason,
        withheld_scores,
    )
    from custlens.models.model_rows import customer_features
    from custlens.models.persist import load_models
    from custlens.models.score_notes import (
        after_data_note,
        cleaning_note,
        money_scale_note,
        scoring_window_note,
    )
    from custlens.models.scoring import out_of_range_words, score_new

    folder = Path(models_dir)
    if not folder.is_dir():
        raise ConfigError(
            f"{str(folder)!r} is not a models folder",
            where=str(folder),
            fix="pass the models/ folder written by `custlens run`",
        )
    models = load_models(folder)  # refuse a bad folder before any work is done
    if settings is None:
        settings = load_settings(config_path)
    settings = settings.with_overrides(analyses=[])
    core = prepare(source, settings, with_features=False, read=read, con=con, on_stage=on_stage)
    with core.clock.stage("scores"):
        cleaned = core.cleaned
        # an as-of date more than a horizon after the new data's end: nothing to check the
        # scores against, so none are given (custlens.models.confidence)
        last_purchase = data_range(cleaned.purchases)[1]
        withheld = withheld_reason(core.as_of, last_purchase, models.horizon_days)
        if withheld is not None:
            scored = withheld_scores(core.customers, models.config, withheld)
            core.notes.append(withheld)
        else:
            purchases, returns = cleaned.purchases, cleaned.returns
            if core.as_of <= last_purchase:  # lines after the as-of date: what cleaning only
                # the lines before it gives (a later cancellation cannot remove a purchase)
                past = history_of(core.transactions, settings, cleaned)
                purchases, returns = past(core.as_of)
            frame, _ = customer_features(purchases, returns, core.as_of, models.config)
            _check_layout(models.feature_names, frame, core.source, folder)
            scored = score_new(models, frame)
            said = (
                scoring_window_note(models, core.as_of, str(folder)),
                after_data_note(core.as_of, last_purchase),
                money_scale_note(
                    models.train_order_value_median, float(frame["avg_order_value"].median())
                ),
                cleaning_note(models.cleaning_rules, settings.cleaning),
                beyond_training_summary(
                    scored, models.train_recency_max, out_of_range_words(models), models.defaults
                ),
                p_alive_note(scored, models.defaults.get("btyd", "bgnbd")),
            )
            core.notes.extend(note for note in said if note)
        scores = align_scores(core.customers, scored)
    # the models score on their own settings (horizon, tiers...): run.json records those
    settings = settings.with_overrides(models=models.config.model_dump())
    return core.results(settings, pd.concat([core.customers, scores], axis=1))


def _check_layout(
    names: Sequence[str], frame: pd.DataFrame, source: SourceInfo, folder: Path
) -> None:
    """MappingError naming the optional columns (``product_id``, ``category``...) the models
    were trained with and the new data lack: without them some model features cannot be
    computed (the feature catalog says which column each feature needs)."""
    lacking = [n for n in names if n not in frame.columns]
    if not lacking:
        return
    specs = {spec.name: spec for spec in FEATURES}
    needed = [c for n in lacking if n in specs for c in specs[n].requires if c != RETURNS]
    columns = [c for c in dict.fromkeys(needed) if c not in source.mapping]
    mapped = ", ".join(f"{k}={v}" for k, v in source.mapping.items())
    if columns:
        what = (
            f"The models in {str(folder)!r} were trained on order lines with the column(s) "
            f"{', '.join(columns)}, which the new data lack"
        )
        fix = (
            "map the new data's column(s) with "
            + " ".join(f"--map {c}=<column>" for c in columns)
            + ", or score data in the layout the models were trained on"
        )
    else:
        what = f"The models in {str(folder)!r} need features the new data do not give"
        fix = "score data in the layout the models were trained on"
    raise MappingError(
        f"{what} (model features {', '.join(lacking)})",
        where=f"{source.origin}; columns mapped: {mapped}",
        fix=fix,
    )
