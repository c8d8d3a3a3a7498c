"""Stage ``personas``: cluster customers on their features, name the clusters, explain them."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import pandas as pd

from custlens.pipeline.stage import StageContext, StageResult

if TYPE_CHECKING:
    import altair as alt

    from custlens.pipeline.results import Results
    from custlens.story import Section


@dataclass(frozen=True)
class PersonasResult(StageResult):
    """Profiles, the k decision, the PCA map, outliers, surrogate-tree rules and importances."""

    stage = "personas"

    @property
    def k(self) -> int | None:
        return self.summary.get("k")

    @property
    def k_reason(self) -> str:
        return str(self.summary.get("k_reason", ""))

    @property
    def profiles(self) -> pd.DataFrame:
        return self.tables["profiles"]

    @property
    def k_selection(self) -> pd.DataFrame:
        return self.tables["k_selection"]

    def charts(self, results: Results) -> dict[str, alt.TopLevelMixin]:
        from custlens.charts.personas import (
            importance_chart,
            k_selection_chart,
            persona_map_chart,
            persona_radar_chart,
            profile_heatmap,
        )

        t = self.tables
        pc1, pc2 = self.summary["map_explained_variance"]
        charts: dict[str, alt.TopLevelMixin] = {
            "persona_k_selection": k_selection_chart(t["k_selection"]),
            "persona_map": persona_map_chart(t["map"], (pc1, pc2), seed=results.settings.seed),
            "persona_profiles": profile_heatmap(t["profiles"]),
        }
        charts["persona_radar"] = persona_radar_chart(
            t["profiles"], n_features=results.settings.report.radar_features
        )
        if "permutation_importance" in t:
            charts["persona_importance"] = importance_chart(
                t["permutation_importance"], t["forest_importance"]
            )
        return charts

    def section(self, results: Results) -> Section:
        from custlens.pipeline.stages.sections import personas_section

        return personas_section(self, results)

    def headline(self, results: Results) -> list[str]:
        sizes = self.summary["sizes"]
        lines = ["Personas: " + "; ".join(f"{n} ({c:,})" for n, c in sizes.items()), self.k_reason]
        fidelity = self.summary.get("surrogate_tree_fidelity")
        if fidelity is not None:
            lines.append(f"Surrogate tree fidelity: {fidelity:.1%}")
        return lines


def run(ctx: StageContext) -> tuple[pd.DataFrame, PersonasResult]:
    """Cluster, name and explain; the customer columns ``persona`` and ``persona_outlier``."""
    from custlens.segment.clustering import PersonaClusterer
    from custlens.segment.explain import explain_personas
    from custlens.segment.personas import build_personas

    customers, settings = ctx.customers, ctx.settings
    clusterer = PersonaClusterer.from_config(settings.personas, seed=settings.seed)
    clusterer.fit(customers)
    found = build_personas(customers, clusterer, settings.personas, seed=settings.seed)
    explanation = explain_personas(
        customers,
        found.assignments["persona"],
        clusterer.features_,
        seed=settings.seed,
        max_depth=settings.personas.tree_max_depth,
        permutation_repeats=settings.personas.permutation_repeats,
        forest_trees=settings.personas.forest_trees,
    )
    columns = found.assignments[["persona", "persona_outlier"]].copy()
    columns.index = customers.index

    selection = clusterer.selection_
    chosen = selection.loc[selection["chosen"].astype(bool), "k"].tolist()
    outliers = clusterer.outliers_
    summary: dict[str, Any] = {
        "k": int(chosen[0]) if chosen else None,
        "k_reason": clusterer.selection_reason_,
        "stability_ari": None if clusterer.stability_ is None else float(clusterer.stability_),
        "stability_seeds": settings.personas.stability_seeds,
        "outliers_kept_out_of_fit": len(outliers if outliers is not None else ()),
        "sizes": {str(k): int(v) for k, v in columns["persona"].value_counts().items()},
        "surrogate_tree_fidelity": explanation.fidelity,
        "forest_accuracy": explanation.forest_accuracy,
        "explained_on": {"train": explanation.n_train, "test": explanation.n_test},
        "map_explained_variance": [float(v) for v in found.map.explained_variance],
    }
    tables = {
        "k_selection": selection,
        "profiles": found.profiles,
        "map": found.map.coordinates,
        "outliers": outliers,
        "tree_rules": explanation.rules,
        "permutation_importance": explanation.permutation_importance,
        "forest_importance": explanation.forest_importance,
    }
    result = PersonasResult(
        tables={k: v for k, v in tables.items() if v is not None},
        summary=summary,
        columns=tuple(columns.columns),
        # the clustering and the explanation each fill in a feature's missing values and say
        # so: the same sentence is shown once
        notes=tuple(dict.fromkeys((*clusterer.notes_, *found.notes, *explanation.notes))),
    )
    return columns, result
