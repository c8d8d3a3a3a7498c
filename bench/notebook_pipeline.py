"""A naive seed-style notebook pipeline, the comparison for custlens's full default run.

What the seed projects' notebooks do, written plainly with pandas and scikit-learn: read the
order lines, drop lines without a customer, cancellations and non-positive quantities or
prices; RFM with quintile scores and named segments; KMeans for k = 2..10 on the scaled
log-RFM, choosing k by silhouette; an IsolationForest on the same features; one LightGBM churn
backtest (features from the lines before cutoff - horizon, label: no purchase in the following
horizon; trained there, evaluated one horizon later); the customer table written to CSV.

It is deliberately simpler than custlens (no feature store, no baselines, no calibration, no
report) and kept only as a baseline for bench/bench_full_run.py; it is not part of custlens.
Usage: python bench/notebook_pipeline.py online_retail.csv.gz OUT.csv
"""

from __future__ import annotations

import sys

import lightgbm as lgb
import numpy as np
import pandas as pd
from sklearn.cluster import KMeans
from sklearn.ensemble import IsolationForest
from sklearn.metrics import roc_auc_score, silhouette_score
from sklearn.preprocessing import StandardScaler

HORIZON = pd.Timedelta(days=90)


def load(path: str) -> pd.DataFrame:
    df = pd.read_csv(path, dtype={"InvoiceNo": str, "StockCode": str})
    df["InvoiceDate"] = pd.to_datetime(df["InvoiceDate"])
    df = df[df["CustomerID"].notna()]
    df = df[~df["InvoiceNo"].str.startswith("C")]
    df = df[(df["Quantity"] > 0) & (df["UnitPrice"] > 0)].copy()
    df["TotalPrice"] = df["Quantity"] * df["UnitPrice"]
    return df


def rfm_table(df: pd.DataFrame, as_of: pd.Timestamp) -> pd.DataFrame:
    rfm = df.groupby("CustomerID").agg(
        last=("InvoiceDate", "max"),
        first=("InvoiceDate", "min"),
        Frequency=("InvoiceNo", "nunique"),
        Monetary=("TotalPrice", "sum"),
        Lines=("InvoiceNo", "size"),
    )
    rfm["Recency"] = (as_of - rfm["last"]).dt.days
    rfm["Tenure"] = (as_of - rfm["first"]).dt.days
    return rfm.drop(columns=["last", "first"])


def segments(rfm: pd.DataFrame) -> pd.Series:
    r = pd.qcut(rfm["Recency"].rank(method="first"), 5, labels=[5, 4, 3, 2, 1]).astype(int)
    f = pd.qcut(rfm["Frequency"].rank(method="first"), 5, labels=[1, 2, 3, 4, 5]).astype(int)
    m = pd.qcut(rfm["Monetary"].rank(method="first"), 5, labels=[1, 2, 3, 4, 5]).astype(int)
    fm = (f + m + 1) // 2
    names = np.select(
        [(r == 5) & (fm >= 4), (r >= 3) & (fm >= 4), (r >= 4) & (fm >= 2), r >= 4, r == 3],
        ["Champions", "Loyal Customers", "Potential Loyalists", "Promising", "Need Attention"],
        default="At Risk",
    )
    return pd.Series(names, index=rfm.index)


def churn_backtest(df: pd.DataFrame, end: pd.Timestamp) -> float:
    def frame(cutoff: pd.Timestamp) -> tuple[pd.DataFrame, pd.Series]:
        past = df[df["InvoiceDate"] <= cutoff]
        future = df[(df["InvoiceDate"] > cutoff) & (df["InvoiceDate"] <= cutoff + HORIZON)]
        x = rfm_table(past, cutoff)
        y = (~x.index.isin(future["CustomerID"].unique())).astype(int)
        return x, pd.Series(y, index=x.index)

    eval_cutoff = end - HORIZON
    x_train, y_train = frame(eval_cutoff - HORIZON)
    x_test, y_test = frame(eval_cutoff)
    model = lgb.LGBMClassifier(n_estimators=300, learning_rate=0.03, verbose=-1, random_state=0)
    model.fit(x_train, y_train)
    return float(roc_auc_score(y_test, model.predict_proba(x_test)[:, 1]))


def main(path: str, out: str) -> None:
    df = load(path)
    end = df["InvoiceDate"].max()
    rfm = rfm_table(df, end + pd.Timedelta(days=1))
    rfm["Segment"] = segments(rfm)
    scaled = StandardScaler().fit_transform(np.log1p(rfm[["Recency", "Frequency", "Monetary"]]))
    best_k, best_score = 2, -1.0
    for k in range(2, 11):
        labels = KMeans(n_clusters=k, n_init=10, random_state=0).fit_predict(scaled)
        score = silhouette_score(scaled, labels)
        if score > best_score:
            best_k, best_score = k, score
    rfm["Cluster"] = KMeans(n_clusters=best_k, n_init=10, random_state=0).fit_predict(scaled)
    forest = IsolationForest(random_state=0).fit(scaled)
    rfm["Anomaly"] = forest.predict(scaled) == -1
    auc = churn_backtest(df, end)
    rfm.to_csv(out)
    print(
        f"k={best_k} silhouette={best_score:.3f} anomalies={int(rfm['Anomaly'].sum())} auc={auc:.3f}"
    )


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2])
