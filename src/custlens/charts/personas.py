"""Persona chart specs: the choice of k, the persona map, the profile heatmap, importances.

Each function takes result tables (from ``custlens.segment.clustering`` / ``personas`` /
``explain``) and returns an Altair chart; nothing here fits a model. Save with
:func:`custlens.charts.save_chart`.
"""

from __future__ import annotations

import altair as alt
import pandas as pd

from custlens._validation import require_columns
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
    data = data.drop(columns="persona_outlier")
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
            color=alt.Color("persona:N", title="Persona"),
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
        x=alt.X("feature:N", sort=list(features), title=None, axis=alt.Axis(labelAngle=-35)),
        y=alt.Y("persona:N", sort=order, title=None),
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
    base = alt.Chart(perm).encode(y=alt.Y("feature:N", sort=order, title=None))
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
                y=alt.Y("feature:N", sort=order, title=None),
                x=alt.X("importance:Q", title="mean impurity decrease"),
                tooltip=["feature:N", alt.Tooltip("importance:Q", format=".3f")],
            )
            .properties(title="Random forest: impurity importance", width=260, height=180)
        )
    return alt.hconcat(*panels).properties(title="What tells the personas apart")


def persona_radar_chart(
    profiles: pd.DataFrame, features: list[str] | None = None, *, max_features: int = 8
) -> alt.FacetChart:
    """One radar per persona: its z-scores on the profile features (clipped to -2..2; the grey
    ring is the average customer, z = 0).

    ``profiles`` is ``Personas.profiles``; the first ``max_features`` ``<feature>_z`` columns are
    drawn when ``features`` is not given.
    """
    import math

    _need(profiles, ("persona", "size"), "persona radar")
    if features is None:
        features = [c[: -len("_z")] for c in profiles.columns if c.endswith("_z")][:max_features]
    _need(profiles, tuple(f"{f}_z" for f in features), "persona radar")
    n = len(features)
    rows = []
    for persona, row in profiles.set_index("persona").iterrows():
        for i, feature in enumerate([*features, features[0]]):  # closed polygon
            z = row[f"{feature}_z"]
            z = 0.0 if pd.isna(z) else float(z)
            r = min(max(z, -2.0), 2.0) + 2.0  # z = -2 at the centre, 0 on the grey ring
            angle = 2 * math.pi * (i % n) / n
            rows.append(
                {
                    "persona": f"{persona} ({int(row['size']):,})",
                    "feature": feature,
                    "order": i,
                    "z": z,
                    "x": r * math.sin(angle),
                    "y": r * math.cos(angle),
                    "ring_x": 2.0 * math.sin(angle),
                    "ring_y": 2.0 * math.cos(angle),
                    "label_x": 4.6 * math.sin(angle),
                    "label_y": 4.6 * math.cos(angle),
                }
            )
    data = pd.DataFrame(rows)
    scale = alt.Scale(domain=[-5.5, 5.5])
    axis = None
    ring = (
        alt.Chart()
        .mark_line(color="#bbbbbb", strokeDash=[3, 3])
        .encode(
            x=alt.X("ring_x:Q", scale=scale, axis=axis),
            y=alt.Y("ring_y:Q", scale=scale, axis=axis),
            order="order:Q",
        )
    )
    shape = (
        alt.Chart()
        .mark_line(point=True, color="#1f6fb4")
        .encode(
            x=alt.X("x:Q", scale=scale, axis=axis),
            y=alt.Y("y:Q", scale=scale, axis=axis),
            order="order:Q",
            tooltip=["persona:N", "feature:N", alt.Tooltip("z:Q", format="+.2f")],
        )
    )
    labels = (
        alt.Chart()
        .transform_filter(alt.datum.order < n)
        .mark_text(fontSize=9, color="#555555")
        .encode(
            x=alt.X("label_x:Q", scale=scale, axis=axis),
            y=alt.Y("label_y:Q", scale=scale, axis=axis),
            text="feature:N",
        )
    )
    return (
        alt.layer(ring, shape, labels, data=data)
        .properties(width=200, height=200)
        .facet(facet=alt.Facet("persona:N", title=None), columns=3)
        .properties(
            title=alt.Title(
                "Persona radars",
                subtitle="z-score per feature, clipped to -2..2; the dashed ring is the average",
            )
        )
    )
