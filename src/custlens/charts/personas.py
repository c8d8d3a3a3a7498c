"""Persona chart specs: the choice of k, the persona map, the profile heatmap, importances.

Each function takes result tables (from ``custlens.segment.clustering`` / ``personas`` /
``explain``) and returns an Altair chart; nothing here fits a model. Save with
:func:`custlens.charts.save_chart`.
"""

from __future__ import annotations

import altair as alt
import pandas as pd

from custlens._validation import require_columns
from custlens.charts import NAME_PX, WORDS
from custlens.errors import DataError

_PANEL = {"width": 220, "height": 160}


def _need(frame: pd.DataFrame, columns: tuple[str, ...], chart: str) -> None:
    require_columns(
        frame,
        columns,
        what=f"the table given to the {chart} chart",
        fix="pass the table produced by custlens.segment (unchanged)",
    )
    if frame.empty:
        raise DataError(f"Nothing to draw in the {chart} chart", where="an empty table")


def k_selection_chart(selection: pd.DataFrame) -> alt.HConcatChart:
    """Inertia (elbow marked), silhouette and Davies-Bouldin against k; the chosen k as a rule.

    ``selection`` is ``PersonaClusterer.selection_`` (columns ``k, inertia, silhouette,
    davies_bouldin, is_knee, chosen``).
    """
    cols = ("k", "inertia", "silhouette", "davies_bouldin", "is_knee", "chosen")
    _need(selection, cols, "k selection")
    data = selection.loc[:, list(cols)].copy()
    data["k"] = data["k"].astype(int)
    chosen = data.loc[data["chosen"], ["k"]]
    panels = []
    for column, title, better in (
        ("inertia", "Inertia (elbow circled)", "lower, with diminishing returns"),
        ("silhouette", "Silhouette", "higher is better"),
        ("davies_bouldin", "Davies-Bouldin", "lower is better"),
    ):
        base = alt.Chart(data).encode(
            x=alt.X("k:O", title="k (clusters)"),
            y=alt.Y(f"{column}:Q", title=column.replace("_", "-"), scale=alt.Scale(zero=False)),
            tooltip=["k:O", alt.Tooltip(f"{column}:Q", format=".3f")],
        )
        layers = [base.mark_line(), base.mark_point(filled=True)]
        if column == "inertia":
            knee = alt.Chart(data.loc[data["is_knee"]]).mark_point(size=250, color="#d62728")
            layers.append(knee.encode(x="k:O", y=f"{column}:Q"))
        rule = alt.Chart(chosen).mark_rule(color="#d62728", strokeDash=[4, 3]).encode(x="k:O")
        layers.append(rule)
        panels.append(
            alt.layer(*layers).properties(title=alt.Title(title, subtitle=better), **_PANEL)
        )
    k = int(chosen["k"].iloc[0]) if len(chosen) else None
    head = f"Choosing the number of personas: k = {k}" if k is not None else "Scores by k"
    return alt.hconcat(*panels).properties(title=head)


def persona_map_chart(
    coordinates: pd.DataFrame,
    explained_variance: tuple[float, float],
    max_points: int = 5000,
    seed: int = 0,
) -> alt.Chart:
    """Customers on the first two principal components, coloured by persona.

    Above ``max_points`` a seeded random sample is drawn (the title says so); outliers are
    drawn as crosses.
    """
    _need(coordinates, ("pc1", "pc2", "persona", "persona_outlier"), "persona map")
    data = coordinates
    title = "Personas on the first two principal components"
    if len(data) > max_points:
        data = data.sample(n=max_points, random_state=seed).sort_index()
        title += f" (random sample of {max_points:,} of {len(coordinates):,} customers)"
    columns = ["pc1", "pc2", "persona", "persona_outlier"]
    if "customer_id" in data.columns:
        columns.append("customer_id")
    data = data.loc[:, columns].assign(
        outlier=lambda d: d["persona_outlier"].map({True: "outlier", False: "customer"})
    )
    data = data.drop(columns="persona_outlier").round({"pc1": 3, "pc2": 3})  # smaller specs
    v1, v2 = explained_variance
    tooltip = ["persona:N", "outlier:N"] + (
        ["customer_id:N"] if "customer_id" in data.columns else []
    )
    return (
        alt.Chart(data)
        .mark_point(filled=True, opacity=0.6, size=25)
        .encode(
            x=alt.X("pc1:Q", title=f"PC1 ({v1:.0%} of variance)"),
            y=alt.Y("pc2:Q", title=f"PC2 ({v2:.0%} of variance)"),
            color=alt.Color("persona:N", title="Persona", legend=alt.Legend(labelLimit=NAME_PX)),
            shape=alt.Shape(
                "outlier:N",
                scale=alt.Scale(domain=["customer", "outlier"], range=["circle", "cross"]),
                title="",
            ),
            tooltip=tooltip,
        )
        .properties(title=title, width=480, height=360)
    )


def profile_heatmap(profiles: pd.DataFrame, features: list[str] | None = None) -> alt.LayerChart:
    """Persona x feature z-scores (cluster mean against all customers), with the values.

    ``profiles`` is ``Personas.profiles`` (``persona``, ``size`` and ``<feature>_z`` columns).
    """
    _need(profiles, ("persona", "size"), "persona profile")
    if features is None:
        features = [c[: -len("_z")] for c in profiles.columns if c.endswith("_z")]
    _need(profiles, tuple(f"{f}_z" for f in features), "persona profile")
    long = profiles.melt(
        id_vars=["persona", "size"],
        value_vars=[f"{f}_z" for f in features],
        var_name="feature",
        value_name="z",
    )
    long["feature"] = long["feature"].str.removesuffix("_z")
    long["label"] = long["z"].map(lambda z: "" if pd.isna(z) else f"{z:+.1f}")
    order = profiles.sort_values("size", ascending=False)["persona"].tolist()
    base = alt.Chart(long).encode(
        x=alt.X(
            "feature:N",
            sort=list(features),
            title=None,
            axis=alt.Axis(labelAngle=-35, labelExpr=WORDS),
        ),
        y=alt.Y("persona:N", sort=order, title=None, axis=alt.Axis(labelLimit=NAME_PX)),
    )
    cells = base.mark_rect().encode(
        color=alt.Color(
            "z:Q",
            title="z-score",
            scale=alt.Scale(
                scheme="redblue", reverse=True, domainMid=0, clamp=True, domain=[-2, 2]
            ),
        ),
        tooltip=["persona:N", "feature:N", alt.Tooltip("z:Q", format="+.2f"), "size:Q"],
    )
    text = base.mark_text(fontSize=11).encode(text="label:N")
    return (cells + text).properties(
        title=alt.Title(
            "Persona profiles", subtitle="z-score of the persona's mean against all customers"
        ),
        width=max(240, 60 * len(features)),
        height=max(120, 32 * len(profiles)),
    )


def importance_chart(
    permutation: pd.DataFrame, forest: pd.DataFrame | None = None
) -> alt.HConcatChart:
    """Bars of the surrogate tree's permutation importance, and the forest's beside it.

    ``permutation`` has ``feature, importance_mean, importance_std``; ``forest`` has
    ``feature, importance`` (``PersonaExplanation.permutation_importance`` / ``forest_importance``).
    """
    _need(permutation, ("feature", "importance_mean", "importance_std"), "importance")
    perm = permutation.assign(
        low=lambda d: d["importance_mean"] - d["importance_std"],
        high=lambda d: d["importance_mean"] + d["importance_std"],
    )
    order = perm.sort_values("importance_mean", ascending=False)["feature"].tolist()
    base = alt.Chart(perm).encode(
        y=alt.Y("feature:N", sort=order, title=None, axis=alt.Axis(labelExpr=WORDS))
    )
    bars = base.mark_bar().encode(
        x=alt.X("importance_mean:Q", title="accuracy lost when shuffled"),
        tooltip=["feature:N", alt.Tooltip("importance_mean:Q", format=".3f")],
    )
    errors = base.mark_rule().encode(x="low:Q", x2="high:Q")
    panels = [
        (bars + errors).properties(
            title="Surrogate tree: permutation importance (held out)", width=260, height=180
        )
    ]
    if forest is not None:
        _need(forest, ("feature", "importance"), "importance")
        panels.append(
            alt.Chart(forest)
            .mark_bar(color="#7f7f7f")
            .encode(
                y=alt.Y("feature:N", sort=order, title=None, axis=alt.Axis(labelExpr=WORDS)),
                x=alt.X("importance:Q", title="mean impurity decrease"),
                tooltip=["feature:N", alt.Tooltip("importance:Q", format=".3f")],
            )
            .properties(title="Random forest: impurity importance", width=260, height=180)
        )
    return alt.hconcat(*panels).properties(title="What tells the personas apart")


def persona_radar_chart(
    profiles: pd.DataFrame, features: list[str] | None = None, n_features: int = 6
) -> alt.FacetChart:
    """A radar chart per persona: its z-scores on the features that tell personas apart most.

    ``features`` default to the ``n_features`` with the widest spread of z across personas.
    Each spoke runs from z = -2 (centre) to +2 (rim); the dashed ring is the average customer.
    """
    import numpy as np

    _need(profiles, ("persona", "size"), "persona radar")
    if features is None:
        z_cols = [c for c in profiles.columns if c.endswith("_z")]
        spread = profiles[z_cols].max() - profiles[z_cols].min()
        features = [c[: -len("_z")] for c in spread.sort_values(ascending=False).index]
        features = features[:n_features]
    _need(profiles, tuple(f"{f}_z" for f in features), "persona radar")
    n = len(features)
    angle = {f: np.pi / 2 - 2 * np.pi * i / n for i, f in enumerate(features)}
    order = profiles.sort_values("size", ascending=False)["persona"].tolist()
    rows = []
    for persona in order:
        prof = profiles.loc[profiles["persona"] == persona].iloc[0]
        for i, f in enumerate([*features, features[0]]):  # repeat the first point: a closed line
            z = float(prof[f"{f}_z"]) if pd.notna(prof[f"{f}_z"]) else 0.0
            r = (min(max(z, -2.0), 2.0) + 2.0) / 4.0
            rows.append(("shape", persona, f, i, r * np.cos(angle[f]), r * np.sin(angle[f]), z))
        for f in features:
            rows.append(
                ("label", persona, f, 0, 1.18 * np.cos(angle[f]), 1.12 * np.sin(angle[f]), 0.0)
            )
            rows.append(("spoke", persona, f, 0, 0.0, 0.0, 0.0))
            rows.append(("spoke", persona, f, 1, np.cos(angle[f]), np.sin(angle[f]), 0.0))
        for i in range(49):
            t = 2 * np.pi * i / 48
            rows.append(("ring", persona, "", i, 0.5 * np.cos(t), 0.5 * np.sin(t), 0.0))
    data = pd.DataFrame(rows, columns=["kind", "persona", "feature", "i", "x", "y", "z"])
    data[["x", "y", "z"]] = data[["x", "y", "z"]].round(4)
    data["words"] = data["feature"].str.replace("_", " ")
    axis = alt.Axis(title=None, labels=False, ticks=False, grid=False, domain=False)
    x = alt.X("x:Q", axis=axis, scale=alt.Scale(domain=[-1.45, 1.45]))
    y = alt.Y("y:Q", axis=axis, scale=alt.Scale(domain=[-1.25, 1.25]))
    base = alt.Chart().encode(x=x, y=y)
    kind = alt.datum.kind
    ring = (
        base.transform_filter(kind == "ring")
        .mark_line(color="#999", strokeDash=[3, 3], strokeWidth=1)
        .encode(order="i:Q")
    )
    spokes = (
        base.transform_filter(kind == "spoke")
        .mark_line(color="#bbb", strokeWidth=1)
        .encode(detail="feature:N", order="i:Q")
    )
    shape = (
        base.transform_filter(kind == "shape")
        .mark_line(point=True, strokeWidth=2)
        .encode(
            order="i:Q",
            color=alt.Color("persona:N", legend=None, sort=order),
            tooltip=["persona:N", "feature:N", alt.Tooltip("z:Q", format="+.2f")],
        )
    )
    labels = (
        base.transform_filter(kind == "label")
        .mark_text(fontSize=9, color="#555")
        .encode(text="words:N")
    )
    return (
        alt.layer(ring, spokes, shape, labels, data=data)
        .properties(width=190, height=170)
        .facet(facet=alt.Facet("persona:N", sort=order, title=None), columns=3)
        .properties(
            title=alt.Title(
                "Persona profiles as radar charts",
                subtitle="z-score per feature: centre -2, dashed ring = average customer, rim +2",
            )
        )
        .configure_view(stroke=None)
    )
