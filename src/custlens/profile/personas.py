"""Persona profiles and names for customer-table clusters, and their map.

Profiles reuse :func:`custlens.segment.personas.profile_clusters` (size, share, median and
z-score of every numeric feature per cluster) and add the most common level of each categorical
feature with its share. Names come from ``ProfileConfig.persona_rules`` (rules that are data,
read by :func:`custlens.segment.personas.name_personas`: ``income_z > 0.5`` reads a z-score,
``spend_share_wines > 0.5`` a median), with the fallback phrases of
``ProfileConfig.feature_phrases`` (source columns in words, ``NumWebVisitsMonth`` -> "Web
Visits Month"; a spend or channel column whose share is a feature is not named after). The
map is a 2-component PCA of the clustering space.
"""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass

import numpy as np
import pandas as pd

from custlens.config import PersonaConfig
from custlens.config.profile import ProfileConfig
from custlens.profile.derived import slug
from custlens.profile.segmentation import Segmentation
from custlens.segment.personas import NameDecision, name_personas, pca_map, profile_clusters

__all__ = ["ProfilePersonas", "build_profile_personas"]


@dataclass(frozen=True)
class ProfilePersonas:
    """Per-cluster profiles with names, per-customer personas, and the PCA map."""

    profiles: pd.DataFrame  # cluster, persona, size, share, <f>_median, <f>_z, <cat>_top ...
    persona: pd.Series  # per customer, aligned with the frame
    coordinates: pd.DataFrame  # id, pc1, pc2, cluster, persona, persona_outlier
    explained_variance: tuple[float, float]
    decisions: list[NameDecision]
    features: list[str]


def share_phrases(features: list[str]) -> dict[str, tuple[str, str]]:
    """Fallback phrases for share features: ``spend_share_wines`` -> ("Little-Wines", "Wines-Heavy").

    >>> share_phrases(["purchase_share_web", "age"])
    {'purchase_share_web': ('Rarely-Web', 'Web-First')}
    """
    out = {}
    for f in features:
        for prefix, low, high in (
            ("spend_share_", "Little-{}", "{}-Heavy"),
            ("purchase_share_", "Rarely-{}", "{}-First"),
        ):
            if f.startswith(prefix):
                word = f[len(prefix) :].replace("_", " ").title().replace(" ", "-")
                out[f] = (low.format(word), high.format(word))
    return out


def column_phrases(features: list[str]) -> dict[str, tuple[str, str]]:
    """Fallback phrases in words for source columns: ``NumWebVisitsMonth`` -> "web visits month".

    A derived feature (snake case already) reads as it is; a name in CamelCase or with a
    ``Num``/``Mnt`` prefix is split into lower-case words.

    >>> column_phrases(["NumWebVisitsMonth", "income"])
    {'NumWebVisitsMonth': ('Low Web Visits Month', 'High Web Visits Month')}
    """
    out = {}
    for f in features:
        if f == f.lower():
            continue
        words = slug(f).split("_")
        if len(words) > 1 and words[0] in ("num", "mnt", "n", "nb"):
            words = words[1:]
        text = " ".join(w.capitalize() for w in words)
        out[f] = (f"Low {text}", f"High {text}")
    return out


def build_profile_personas(
    frame: pd.DataFrame,
    segmentation: Segmentation,
    features: list[str],
    config: ProfileConfig,
    *,
    id_column: str,
    seed: int = 0,
    not_for_names: Collection[str] = (),
) -> ProfilePersonas:
    """Profile the clusters on ``features`` (numeric), name them, and map the customers.

    ``not_for_names``: features profiled but not named after (a spend column beside its share:
    "Wines-Heavy, High MntWines" says wine twice, the second time in the export's spelling).
    """
    labels = segmentation.labels
    profiles = profile_clusters(
        frame,
        labels,
        features,
        log_features=None,
        outliers=segmentation.is_outlier,
    )
    unnamed = set(not_for_names or ())
    naming = PersonaConfig(
        features=[],
        rules=list(config.persona_rules),
        feature_phrases={
            **column_phrases([f for f in features if f not in unnamed]),
            **share_phrases(features),
            **config.feature_phrases,
        },
    )
    dropped = [f"{f}_{x}" for f in features if f in unnamed for x in ("z", "median")]
    decisions = name_personas(profiles.drop(columns=dropped, errors="ignore"), naming)
    names = {d.cluster: d.name for d in decisions}
    profiles.insert(1, "persona", profiles["cluster"].map(names))
    by_cluster = {d.cluster: d for d in decisions}
    profiles["rule"] = profiles["cluster"].map(lambda c: by_cluster[c].rule)
    profiles["evidence"] = profiles["cluster"].map(lambda c: by_cluster[c].evidence)
    for column in segmentation.categorical:
        values = frame[column].astype("string").fillna("(missing)").to_numpy()
        tops, top_shares = [], []
        for c in profiles["cluster"]:
            counts = pd.Series(values[labels == c]).value_counts()
            tops.append(str(counts.index[0]) if len(counts) else "")
            top_shares.append(float(counts.iloc[0] / counts.sum()) if len(counts) else np.nan)
        profiles[f"{column}_top"] = tops
        profiles[f"{column}_top_share"] = top_shares
    persona = pd.Series([names[c] for c in labels], index=frame.index, name="persona")
    coords, ratio, _ = pca_map(segmentation.design, ~segmentation.is_outlier, seed=seed)
    coordinates = pd.DataFrame(
        {
            id_column: frame[id_column].to_numpy(),
            "pc1": coords[:, 0],
            "pc2": coords[:, 1],
            "cluster": labels,
            "persona": persona.to_numpy(),
            "persona_outlier": segmentation.is_outlier,
        }
    )
    if id_column != "customer_id":
        coordinates["customer_id"] = coordinates[id_column]
    return ProfilePersonas(profiles, persona, coordinates, ratio, decisions, list(features))
