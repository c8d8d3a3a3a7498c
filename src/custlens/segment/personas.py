"""Personas from clusters: a profile per cluster, a name from rules that are data, a 2-D map.

Profile (one row per cluster): ``size``, ``share``, ``n_outliers``, and for each feature
``<feature>_median`` (original units) and ``<feature>_z``: the z-score of the cluster's mean
against all customers, ``(mean_cluster - mean_all) / sd_all``, computed on the clustering
scale (after log1p for skewed features, so a few huge spenders do not swamp it; a z-score
does not change under the robust scaling, which is affine). Missing values are ignored.

Names: the first rule of ``PersonaConfig.rules`` whose every condition holds names the cluster
(``"monetary_z > 0.8"`` reads the z column, ``"q4_share > 0.5"`` the median). With no matching
rule the name lists the most distinctive features (``|z| >= fallback_min_z``), e.g.
``"Frequent, High-Spend Customers"``; with none, ``typical_name``. Names are made unique
deterministically: within a clash the largest cluster keeps the name, the others get their most
different feature in brackets, then a number if still needed.

Map: a 2-component PCA of the clustering space, fitted on the non-outliers, for every customer.
"""

from __future__ import annotations

import logging
import operator
from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass, field

import numpy as np
import pandas as pd
from sklearn.decomposition import PCA

from custlens._validation import check_fitted
from custlens.config import PersonaConfig
from custlens.errors import DataError
from custlens.features.customer_frame import feature_values
from custlens.features.labels import compared_text
from custlens.features.preprocess import is_skewed
from custlens.segment.clustering import PersonaClusterer

logger = logging.getLogger(__name__)

_OPS = {">": operator.gt, ">=": operator.ge, "<": operator.lt, "<=": operator.le}


@dataclass(frozen=True)
class NameDecision:
    """Why a cluster got its name."""

    cluster: int
    name: str
    rule: str | None  # the matching rule's name; None for a fallback name
    description: str
    evidence: str  # the conditions with the cluster's values, or the distinctive features


@dataclass(frozen=True)
class PersonaMap:
    """2-D PCA coordinates per customer and the share of variance each component explains."""

    coordinates: pd.DataFrame  # customer_id (when known), pc1, pc2, cluster, persona, outlier
    explained_variance: tuple[float, float]
    loadings: pd.DataFrame  # index: feature; columns pc1, pc2


@dataclass(frozen=True)
class Personas:
    """Profiles, names and the map of the clusters of a fitted :class:`PersonaClusterer`."""

    profiles: pd.DataFrame
    assignments: pd.DataFrame  # customer_id, cluster, persona, persona_outlier
    map: PersonaMap
    decisions: list[NameDecision]
    features: list[str]  # profiled features (clustering features + those rules refer to)
    notes: list[str] = field(default_factory=list)


def profile_clusters(
    customers: pd.DataFrame,
    labels: Sequence[int] | np.ndarray,
    features: Sequence[str],
    log_features: Collection[str] | None = None,
    skew_threshold: float = 1.0,
    outliers: Sequence[bool] | np.ndarray | None = None,
) -> pd.DataFrame:
    """One row per cluster (sorted by cluster): size, share, medians, means and z-scores of
    features (the z-score: the cluster's mean minus every customer's, over their standard
    deviation, on the log scale for the logged features).

    ``log_features`` lists the features z-scored on the log1p scale; ``None`` decides by
    skewness (non-negative with skewness above ``skew_threshold``).
    """
    labels = np.asarray(labels)
    # the rows of each cluster, in table order (a stable sort by cluster, then one slice per
    # cluster: the same values in the same order as a mask per cluster, without k passes)
    clusters, codes, sizes = np.unique(labels, return_inverse=True, return_counts=True)
    order = np.argsort(codes.ravel(), kind="stable")
    bounds = np.concatenate([[0], np.cumsum(sizes)])
    members = [order[bounds[i] : bounds[i + 1]] for i in range(len(clusters))]
    out = pd.DataFrame({"cluster": clusters})
    out["size"] = [int(n) for n in sizes]
    out["share"] = out["size"] / len(labels)
    flags = np.zeros(len(labels), bool) if outliers is None else np.asarray(outliers, bool)
    out["n_outliers"] = [int(flags[rows].sum()) for rows in members]
    for name in features:
        raw = feature_values(customers, name)
        logged = name in log_features if log_features is not None else None
        if logged is None:
            logged = is_skewed(raw, skew_threshold)
        scaled = np.log1p(np.clip(raw, 0.0, None)) if logged else raw
        mean_all, sd_all = np.nanmean(scaled), np.nanstd(scaled)
        medians, means, zs = [], [], []
        for rows in members:
            medians.append(_nanmedian(raw[rows]))
            means.append(_nanmean(raw[rows]))
            mean_c = _nanmean(scaled[rows])
            zs.append((mean_c - mean_all) / sd_all if sd_all > 0 else 0.0)
        out[f"{name}_median"] = medians
        out[f"{name}_mean"] = means
        out[f"{name}_z"] = zs
    return out


def _nanmedian(values: np.ndarray) -> float:
    finite = values[~np.isnan(values)]
    return float(np.median(finite)) if finite.size else np.nan


def _nanmean(values: np.ndarray) -> float:
    finite = values[~np.isnan(values)]
    return float(finite.mean()) if finite.size else np.nan


def _term_value(row: pd.Series, term: str) -> float:
    column = term if term.endswith("_z") and term in row.index else f"{term}_median"
    value = row.get(column, np.nan)
    return float(value) if pd.notna(value) else np.nan


def _feature_names(profiles: pd.DataFrame) -> list[str]:
    return [c[: -len("_z")] for c in profiles.columns if c.endswith("_z")]


def _phrase(feature: str, high: bool, config: PersonaConfig) -> str:
    phrases = config.feature_phrases.get(feature)
    if phrases is not None:
        return phrases[1] if high else phrases[0]
    return f"{'High' if high else 'Low'} {feature.replace('_', ' ')}"  # e.g. "High basket size"


def _fallback(
    row: pd.Series, features: list[str], config: PersonaConfig
) -> tuple[str, str, list[str]]:
    """A name from the most distinctive features, the evidence, and those features."""
    zs = [(f, float(row[f"{f}_z"])) for f in features if pd.notna(row[f"{f}_z"])]
    distinct = sorted(
        ((f, z) for f, z in zs if abs(z) >= config.fallback_min_z),
        key=lambda fz: (-abs(fz[1]), fz[0]),
    )[: config.fallback_terms]
    if not distinct:
        return config.typical_name, f"no feature has |z| >= {config.fallback_min_z:g}", []
    name = ", ".join(_phrase(f, z > 0, config) for f, z in distinct) + " Customers"
    evidence = "; ".join(f"{f}_z = {z:+.2f}" for f, z in distinct)
    return name, evidence, [f for f, _ in distinct]


def _averages_text(row: pd.Series, features: list[str], typical: Mapping[str, float]) -> str:
    """A fallback persona's description: its mean of each distinctive feature beside all
    customers' (``typical``), e.g. "Averages: 1.2 orders (all customers 2.6).". Means, as the
    z-scores that named it compare: a median can be the same for every cluster (1 order)."""
    parts = [
        compared_text(f, float(row[f"{f}_mean"]), float(typical[f]), "all customers")
        for f in features
        if pd.notna(row.get(f"{f}_mean")) and pd.notna(typical.get(f))
    ]
    return f"Averages: {'; '.join(parts)}." if parts else ""


def name_personas(
    profiles: pd.DataFrame,
    config: PersonaConfig | None = None,
    typical: Mapping[str, float] | None = None,
) -> list[NameDecision]:
    """Names for the clusters of a profile table (columns ``cluster``, ``size``, ``<f>_z``,
    ``<f>_median``), unique and deterministic. See the module docstring for the rules.
    ``typical``: every customer's mean of each feature; with it, a cluster named from its
    distinctive features (no rule matched) is described by its means beside these."""
    config = config or PersonaConfig()
    features = _feature_names(profiles)
    decisions: list[NameDecision] = []
    for _, row in profiles.iterrows():
        decision = None
        for rule in config.rules:
            values = [(t, op, v, _term_value(row, t)) for t, op, v in rule.conditions()]
            if all(not np.isnan(x) and _OPS[op](x, v) for _, op, v, x in values):
                evidence = "; ".join(f"{t} = {x:,.3g} {op} {v:g}" for t, op, v, x in values)
                decision = NameDecision(
                    int(row["cluster"]), rule.name, rule.name, rule.description, evidence
                )
                break
        if decision is None:
            name, evidence, distinct = _fallback(row, features, config)
            words = _averages_text(row, distinct, typical or {})
            decision = NameDecision(int(row["cluster"]), name, None, words, evidence)
        decisions.append(decision)
    return _make_unique(decisions, profiles, features, config)


def _make_unique(
    decisions: list[NameDecision],
    profiles: pd.DataFrame,
    features: list[str],
    config: PersonaConfig,
) -> list[NameDecision]:
    rows = {int(r["cluster"]): r for _, r in profiles.iterrows()}
    names = {d.cluster: d.name for d in decisions}
    for name in dict.fromkeys(d.name for d in decisions):
        group = [d.cluster for d in decisions if d.name == name]
        if len(group) < 2:
            continue
        group.sort(key=lambda c: (-int(rows[c]["size"]), c))
        keeper = rows[group[0]]
        for c in group[1:]:
            diffs = [
                (f, float(rows[c][f"{f}_z"]) - float(keeper[f"{f}_z"]))
                for f in features
                if pd.notna(rows[c][f"{f}_z"]) and pd.notna(keeper[f"{f}_z"])
            ]
            if diffs:
                f, delta = max(diffs, key=lambda fd: (abs(fd[1]), fd[0]))
                names[c] = f"{name} ({_phrase(f, delta > 0, config)})"
    taken: set[str] = set()
    for d in decisions:  # numbers only if brackets did not suffice
        candidate, n = names[d.cluster], 2
        while candidate in taken:
            candidate, n = f"{names[d.cluster]} {n}", n + 1
        names[d.cluster] = candidate
        taken.add(candidate)
    return [
        NameDecision(d.cluster, names[d.cluster], d.rule, d.description, d.evidence)
        for d in decisions
    ]


def pca_map(
    z: pd.DataFrame, fit_mask: np.ndarray | None = None, seed: int = 0
) -> tuple[np.ndarray, tuple[float, float], pd.DataFrame]:
    """2-D PCA coordinates of the rows of ``z`` (fitted on ``fit_mask`` rows), explained
    variance ratios and loadings. A single feature gives a zero second axis."""
    values = z.to_numpy(dtype="float64")
    fit_rows = values if fit_mask is None else values[np.asarray(fit_mask, bool)]
    axes = MapAxes.fit(fit_rows, list(z.columns), seed)
    return axes.project(values), axes.ratio, axes.loadings


@dataclass(frozen=True)
class MapAxes:
    """The first two principal axes of a robust-score matrix (a single feature gives a zero
    second axis): ``project`` places any rows on them."""

    pca: PCA
    n_components: int
    ratio: tuple[float, float]
    loadings: pd.DataFrame

    @classmethod
    def fit(cls, values: np.ndarray, features: list[str], seed: int) -> MapAxes:
        n_comp = min(2, values.shape[1], len(values))
        pca = PCA(n_components=n_comp, random_state=seed).fit(values)
        ratio = list(pca.explained_variance_ratio_) + [0.0] * (2 - n_comp)
        comps = np.zeros((2, values.shape[1]))
        comps[:n_comp] = pca.components_
        loadings = pd.DataFrame(comps.T, index=features, columns=["pc1", "pc2"])
        return cls(pca, n_comp, (float(ratio[0]), float(ratio[1])), loadings)

    def project(self, values: np.ndarray) -> np.ndarray:
        coords = np.zeros((len(values), 2))
        coords[:, : self.n_components] = self.pca.transform(values)
        return coords


def _map_coordinates(
    customers: pd.DataFrame, clusterer: PersonaClusterer, seed: int
) -> tuple[np.ndarray, MapAxes]:
    """Every customer's place on the axes fitted on the customers the clusters were fitted on
    (the non-outliers, or the seeded sample of them), a block of customers at a time."""
    # in row order (C): the axes' sums run in the same order whatever the frame's layout
    fitted = np.ascontiguousarray(clusterer.rows_z(customers, clusterer.fit_rows_))
    axes = MapAxes.fit(fitted, list(clusterer.features_), seed)
    coords = np.empty((len(customers), 2))
    for start, z in clusterer.blocks(customers):
        coords[start : start + len(z)] = axes.project(z)
    return coords, axes


def build_personas(
    customers: pd.DataFrame,
    clusterer: PersonaClusterer,
    config: PersonaConfig | None = None,
    seed: int = 0,
) -> Personas:
    """Profile, name and map the clusters of ``clusterer`` fitted on ``customers``."""
    config = config or PersonaConfig()
    check_fitted(clusterer, "labels_")
    if len(customers) != len(clusterer.labels_):
        raise DataError(
            f"The customer table has {len(customers)} rows but the clusterer was fitted on "
            f"{len(clusterer.labels_)}",
            where="build_personas(customers, clusterer)",
            fix="pass the same table that was given to clusterer.fit",
        )
    notes: list[str] = []
    features = list(clusterer.features_)
    for rule in config.rules:
        for term, _, _ in rule.conditions():
            name = term[: -len("_z")] if term.endswith("_z") else term
            if name in features or name not in customers.columns:
                continue
            if (
                pd.api.types.is_numeric_dtype(customers[name].dtype)
                and customers[name].notna().any()
            ):
                features.append(name)
                notes.append(
                    f"feature {name!r} profiled (used by rule {rule.name!r}), not clustered"
                )
    log_features = set(clusterer.log_features_)
    extra = [f for f in features if f not in clusterer.features_]
    log_features |= {
        f for f in extra if is_skewed(feature_values(customers, f), clusterer.skew_threshold)
    }
    labels, outliers = clusterer.labels_, clusterer.is_outlier_
    profiles = profile_clusters(customers, labels, features, log_features, outliers=outliers)
    typical = {f: _nanmean(feature_values(customers, f)) for f in features}
    decisions = name_personas(profiles, config, typical)
    names = {d.cluster: d.name for d in decisions}
    profiles.insert(1, "persona", profiles["cluster"].map(names))
    by_cluster = {d.cluster: d for d in decisions}
    profiles["rule"] = profiles["cluster"].map(lambda c: by_cluster[c].rule)
    profiles["description"] = profiles["cluster"].map(lambda c: by_cluster[c].description)
    profiles["evidence"] = profiles["cluster"].map(lambda c: by_cluster[c].evidence)

    assignments = pd.DataFrame(index=customers.index)
    if clusterer.id_column in customers.columns:
        assignments[clusterer.id_column] = customers[clusterer.id_column]
    assignments["cluster"] = labels
    assignments["persona"] = [names[c] for c in labels]
    assignments["persona_outlier"] = outliers

    coords, axes = _map_coordinates(customers, clusterer, seed)
    coordinates = assignments.copy()
    coordinates.insert(len(coordinates.columns) - 3, "pc1", coords[:, 0])
    coordinates.insert(len(coordinates.columns) - 3, "pc2", coords[:, 1])
    for note in notes:
        logger.info("personas: %s", note)
    return Personas(
        profiles=profiles,
        assignments=assignments,
        map=PersonaMap(coordinates, axes.ratio, axes.loadings),
        decisions=decisions,
        features=features,
        notes=notes,
    )
