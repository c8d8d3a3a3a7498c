"""Profile a customer-level table: read, roles, features, quality, personas, statistics, scores.

``profile(source)`` returns a frozen :class:`ProfileResult` holding every table, the summary as
data (JSON-ready, no prose) and the notes; ``custlens.report.profile_markdown.write_profile``
writes it (CSV/Parquet, ``roles.json``, ``run.json``, figures and ``profile.md``). The HTML
report's profile sections can be built from ``tables`` and ``summary`` alone.
"""

from __future__ import annotations

import time
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from custlens.config import Settings, load_settings
from custlens.errors import DataError
from custlens.io.options import ReadOptions

__all__ = ["ProfileResult", "profile"]

_NOT_CLUSTERED = ("r_score", "f_score", "m_score", "rfm_score", "complained")
_SHARE_PREFIX = ("spend_share_", "purchase_share_")  # their source column is not named after
_NOT_CLUSTERED_PREFIX = ("campaign_", "household_size", "tenure_days", "spend_per_purchase")


@dataclass(frozen=True)
class ProfileResult:
    """Everything ``custlens profile`` found, as tables and a summary (numbers only)."""

    customers: pd.DataFrame  # id, persona, scores, derived features and the usable columns
    roles: dict[str, Any]  # roles.json
    tables: dict[str, pd.DataFrame]  # name -> table (written as <name>.csv)
    summary: dict[str, Any]  # k, criteria, sizes, strongest differences, best personas ...
    run: dict[str, Any]  # run.json
    notes: tuple[str, ...] = field(default_factory=tuple)

    @property
    def id_column(self) -> str:
        return str(self.roles["id_column"])

    def headline(self) -> list[str]:
        """A few lines for the command line."""
        from custlens.insights.record import format_p

        s = self.summary
        lines = [
            f"Roles: {', '.join(f'{r} {n}' for r, n in s['role_counts'].items())}",
            f"Personas: k = {s['k']} (silhouette {s['silhouette']:.3f}, Davies-Bouldin "
            f"{s['davies_bouldin']:.3f}, stability ARI {s['stability']:.2f})",
        ]
        for p in s["personas"]:
            lines.append(f"  {p['persona']}: {p['size']:,} customers ({p['share']:.1%})")
        # a large effect size that is not significant (a tiny table) is not a difference found
        found = [d for d in s["strongest_differences"] if d["significant"]]
        for d in found[:3]:
            lines.append(
                f"Differs most: {d['feature']} ({d['effect']} {d['effect_size']:.2f}, "
                f"BH-adjusted {format_p(d['p_adjusted'])})"
            )
        if s["tests"] and not s["significant_tests"]:
            lines.append("No feature differs significantly across personas")
        for b in s["best_persona_per_campaign"]:
            clears = (
                "its interval clears the base rate"
                if b["clears_base_rate"]
                else f"its interval does not clear the base rate {b['base_rate']:.1%}"
            )
            lines.append(
                f"Campaign {b['campaign']}: {b['persona']} responds best ({b['rate']:.1%}, "
                f"lift {b['lift']:.2f}; {clears})"
            )
        return lines


class _Clock:
    def __init__(self) -> None:
        self.seconds: dict[str, float] = {}

    @contextmanager
    def stage(self, name: str) -> Iterator[None]:
        start = time.perf_counter()
        yield
        self.seconds[name] = round(time.perf_counter() - start, 4)


def _read(source: Any, read: ReadOptions | None, min_rows: int) -> tuple[pd.DataFrame, dict]:
    from custlens.io.readers import read_table

    raw = read_table(source, read)
    frame = raw.table.to_pandas()
    info = {"origin": raw.origin, "sha256": raw.sha256, "kind": raw.kind}
    if len(frame) < min_rows:
        raise DataError(
            f"The table has {len(frame)} rows; profiling needs at least {min_rows} customers",
            where=str(raw.origin),
            fix="profile a table with one row per customer and at least that many customers",
        )
    if frame.isna().all().all():
        raise DataError(
            "Every column of the table is empty",
            where=str(raw.origin),
            fix="check the file (delimiter, sheet, header row)",
        )
    return frame, info


def _segmentation_features(features: Any, roles: Any, config: Any) -> tuple[list[str], list[str]]:
    if config.features is not None:
        numeric = [f for f in config.features if f in features.frame.columns]
    else:
        consumed = {c for cols in features.inputs.values() for c in cols}
        numeric = [
            f
            for f in features.derived
            if f not in _NOT_CLUSTERED and not f.startswith(_NOT_CLUSTERED_PREFIX)
        ]
        numeric += [
            c for c in roles.columns("numeric") if c not in consumed and c not in roles.totals
        ]
        if not numeric:  # no derived feature: every numeric source column
            numeric = [c for r in ("numeric", "spend", "purchases") for c in roles.columns(r)]
    if config.categorical_features is not None:
        categorical = [c for c in config.categorical_features if c in features.frame.columns]
    else:
        categorical = roles.columns("categorical")
    return numeric, categorical


def _summary_tests(tests: pd.DataFrame, top: int = 8) -> list[dict[str, Any]]:
    cols = ["feature", "kind", "test", "effect", "effect_size", "strength", "p_adjusted"]
    cols += ["significant", "highest", "lowest"]
    return [
        {k: (v.item() if isinstance(v, np.generic) else v) for k, v in row.items()}
        for row in tests.head(top)[cols].to_dict("records")
    ]


def profile(
    source: Any,
    *,
    roles: Mapping[str, str] | None = None,
    as_of: date | None = None,
    seed: int | None = None,
    settings: Settings | None = None,
    config_path: str | Path | None = None,
    read: ReadOptions | None = None,
) -> ProfileResult:
    """Profile the customer table ``source``: roles, features, personas, statistics, scores.

    Parameters
    ----------
    source : str, pathlib.Path, pandas.DataFrame or ibis.Table
        One row per customer: CSV/TSV (any delimiter), Excel, Parquet, a database table...
    roles : mapping of str to str, optional
        Role overrides, e.g. ``{"Income": "numeric", "Code": "categorical"}``.
    as_of : datetime.date, optional
        Date of age and tenure (default: the day after the latest customer-since date).
    seed : int, optional
        Random seed (default ``settings.seed``).
    settings, config_path, read
        Settings (``settings.profile``) or the ``custlens.toml`` to read; how to read the source.

    Returns
    -------
    ProfileResult

    Raises
    ------
    InputError
        The source cannot be read (e.g. a binary file).
    MappingError
        A role override names a missing column or does not fit its values.
    DataError
        Fewer than ``min_rows`` rows, every column empty, no numeric column, a non-unique id.

    Examples
    --------
    >>> from custlens.datasets import customer_profile_table
    >>> result = profile(customer_profile_table(400, seed=3).table, seed=0)
    >>> result.summary["k"] >= 2, result.roles["columns"]["MntWines"]["role"]
    (True, 'spend')
    """
    from custlens.pipeline.run import package_versions
    from custlens.profile.derived import catalog_entry, derive_features
    from custlens.profile.names import keep_user_columns
    from custlens.profile.personas import build_profile_personas
    from custlens.profile.roles import assign_roles
    from custlens.profile.scores import score_customers
    from custlens.profile.segmentation import segment_customers
    from custlens.profile.statistics import (
        adjust,
        campaign_response,
        categorical_tests,
        high_value_drivers,
        numeric_tests,
    )

    if settings is None:
        settings = load_settings(config_path)
    config = settings.profile
    if roles:
        config = config.model_copy(update={"roles": {**config.roles, **dict(roles)}})
        config = type(config).model_validate(config.model_dump())
    seed = settings.seed if seed is None else seed
    clock = _Clock()
    notes: list[str] = []
    with clock.stage("read"):
        raw, source_info = _read(source, read, config.min_rows)
        raw, config, renamed = keep_user_columns(raw, config)
        notes += renamed
    with clock.stage("roles"):
        assigned = assign_roles(raw, config)
        notes += assigned.notes
    with clock.stage("features"):
        feats = derive_features(
            assigned, config, as_of, plausible=settings.cleaning.plausible_window()
        )
        notes += feats.notes
        frame = feats.frame
        numeric_roles = [
            c for r in ("numeric", "spend", "purchases", "birth_year") for c in assigned.columns(r)
        ]
        if not numeric_roles and not feats.derived:
            raise DataError(
                "The table has no numeric column to profile",
                where=f"roles: {assigned.to_json()['columns']}",
                fix="check the delimiter and decimal separator (--delimiter, --decimal), or set "
                "roles with --role COL=numeric",
            )
    id_col = assigned.id_column
    with clock.stage("personas"):
        numeric, categorical = _segmentation_features(feats, assigned, config)
        seg = segment_customers(frame, numeric, categorical, config, seed=seed, id_column=id_col)
        notes += seg.notes
        aliased = {c for f in ("age", "income", "recency_days") for c in feats.inputs.get(f, [])}
        profile_features = [
            f
            for f in dict.fromkeys([*feats.derived, *numeric, *numeric_roles])
            if f not in aliased
            and f not in assigned.totals  # the spend again (total_spend is tested)
            and f not in ("r_score", "f_score", "m_score", "complained")
        ]
        shared = [
            c for f, cols in feats.inputs.items() if f.startswith(_SHARE_PREFIX) for c in cols
        ]
        personas = build_profile_personas(
            frame,
            seg,
            profile_features,
            config,
            id_column=id_col,
            seed=seed,
            not_for_names=shared,
        )
    persona = personas.persona
    with clock.stage("statistics"):
        flags = assigned.columns("flag")
        tests = pd.concat(
            [
                numeric_tests(frame, persona, profile_features),
                categorical_tests(frame, persona, [*assigned.columns("categorical"), *flags]),
            ],
            ignore_index=True,
        )
        tests = adjust(tests, config.alpha)
        campaigns = feats.inputs.get("campaign_acceptance_rate", [])
        rates, best = campaign_response(frame, persona, campaigns, config.confidence)
        high_tables: dict[str, pd.DataFrame] = {}
        high_summary: dict[str, Any] = {}
        if "total_spend" in frame.columns:
            spend_like = set(feats.inputs.get("total_spend", []))
            spend_like |= {"total_spend", "spend_per_purchase", "m_score", "rfm_score"}
            drivers = [f for f in profile_features if f not in spend_like]
            design = frame[[id_col, "total_spend", *drivers]].copy()
            for column in seg.categorical:
                for level, values in pd.get_dummies(
                    frame[column].astype("string").fillna("(missing)"),
                    prefix=column,
                    prefix_sep="=",
                ).items():
                    design[str(level)] = values.astype("float64")
                    drivers.append(str(level))
            hv = high_value_drivers(
                design,
                "total_spend",
                drivers,
                quantile=config.high_value_quantile,
                max_depth=config.tree_max_depth,
                seed=seed,
            )
            importance = hv.explanation.permutation_importance
            high_tables = {
                "high_value_rules": hv.explanation.rules,
                "high_value_importance": hv.explanation.permutation_importance,
            }
            high_summary = {
                "value": "total_spend",
                "threshold": hv.threshold,
                "share": hv.share,
                "fidelity": hv.explanation.fidelity,
                "majority_accuracy": hv.majority_accuracy,
                # only features whose shuffling costs accuracy: a zero importance ranks by name
                "top_features": importance.loc[importance["importance_mean"] > 0, "feature"]
                .head(5)
                .tolist(),
                "rules": hv.explanation.rules_for("high value")[:3],
            }
        else:
            notes.append("high-value drivers skipped: no spend columns (total_spend)")
    with clock.stage("scores"):
        scored = score_customers(frame, config.scores)
        notes += scored.notes

    customers = pd.concat(
        [
            frame[[id_col]],
            pd.DataFrame(
                {
                    "persona": persona,
                    "cluster": seg.labels,
                    "persona_outlier": seg.is_outlier,
                },
                index=frame.index,
            ),
            scored.scores,
            frame.drop(columns=[id_col]),
        ],
        axis=1,
    ).reset_index(drop=True)
    used_catalog = []
    for f in feats.derived:
        entry = catalog_entry(f)
        used_catalog.append(
            {
                "feature": f,
                "definition": entry.definition if entry else "",
                "unit": entry.unit if entry else "",
                "inputs": ", ".join(feats.inputs.get(f, [])),
            }
        )
    sizes = personas.profiles[["cluster", "persona", "size", "share"]]
    chosen = seg.selection.loc[seg.selection["chosen"]].iloc[0]
    role_counts = assigned.table["role"].value_counts().to_dict()
    summary: dict[str, Any] = {
        "customers": len(frame),
        "id_column": id_col,
        "as_of": feats.as_of.isoformat(),
        "role_counts": {str(k): int(v) for k, v in role_counts.items()},
        "segmentation": {
            "method": "k-means on robust-scaled numeric features and unit-variance one-hot "
            "categorical blocks",
            "numeric": seg.numeric,
            "categorical": seg.categorical,
            "log_features": seg.log_features,
            "n_fit": seg.n_fit,
            "outliers": int(seg.is_outlier.sum()),
        },
        "k": int(seg.k),
        "knee": seg.knee,
        "silhouette": float(chosen["silhouette"]),
        "davies_bouldin": float(chosen["davies_bouldin"]),
        "knee_gap": float(chosen["knee_gap"]),
        "stability": seg.stability,
        "k_reason": seg.reason,
        "personas": [
            {
                "cluster": int(r.cluster),
                "persona": str(r.persona),
                "size": int(r.size),
                "share": float(r.share),
            }
            for r in sizes.itertuples(index=False)
        ],
        "persona_rules": {d.name: d.evidence for d in personas.decisions},
        "explained_variance": list(personas.explained_variance),
        "strongest_differences": _summary_tests(tests),
        "significant_tests": int(tests["significant"].sum()) if len(tests) else 0,
        "tests": len(tests),
        "best_persona_per_campaign": [
            {k: (v.item() if isinstance(v, np.generic) else v) for k, v in r.items()}
            for r in best.to_dict("records")
        ],
        "high_value": high_summary,
        "scores": scored.definitions.to_dict("records"),
    }
    tables = {
        "roles": assigned.table,
        "quality": feats.quality,
        "feature_catalog": pd.DataFrame(used_catalog),
        "k_selection": seg.selection,
        "persona_profiles": personas.profiles,
        "persona_map": personas.coordinates,
        "tests": tests,
        "campaign_response": rates,
        "best_campaign_persona": best,
        "score_definitions": scored.definitions,
        **high_tables,
    }
    run = {
        "tool": "custlens",
        "command": "profile",
        "input": source_info,
        "as_of": feats.as_of.isoformat(),
        "seed": seed,
        "rows": {"input": len(raw), "customers": len(customers)},
        "seconds": dict(clock.seconds),
        "settings": {"profile": config.model_dump(mode="json"), "seed": seed},
        "versions": package_versions(),
        "notes": list(dict.fromkeys(notes)),
    }
    return ProfileResult(
        customers=customers,
        roles=assigned.to_json(),
        tables=tables,
        summary=summary,
        run=run,
        notes=tuple(dict.fromkeys(notes)),
    )
