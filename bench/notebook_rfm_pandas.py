"""The RFM table as the seed projects' notebooks compute it: pandas, groupby with lambdas.

Kept only as a baseline for bench/bench_run.py; it is not part of custlens.
Usage: python bench/notebook_rfm_pandas.py online_retail.csv.gz
"""

from __future__ import annotations

import datetime as dt
import sys

import pandas as pd


def main(path: str) -> None:
    if path.endswith(".parquet"):
        df = pd.read_parquet(path)
    else:
        df = pd.read_csv(path, encoding="utf-8", dtype={"InvoiceNo": str, "StockCode": str})
    df["InvoiceDate"] = pd.to_datetime(df["InvoiceDate"])
    df = df[df["CustomerID"].notna()]
    df = df[~df["InvoiceNo"].astype(str).str.startswith("C")]
    df = df[(df["Quantity"] > 0) & (df["UnitPrice"] > 0)]
    df["TotalPrice"] = df["Quantity"] * df["UnitPrice"]
    snapshot = df["InvoiceDate"].max() + dt.timedelta(days=1)
    rfm = df.groupby("CustomerID").agg(
        {
            "InvoiceDate": lambda x: (snapshot - x.max()).days,
            "InvoiceNo": lambda x: x.nunique(),
            "TotalPrice": lambda x: x.sum(),
        }
    )
    rfm.columns = ["Recency", "Frequency", "Monetary"]
    rfm["R"] = pd.qcut(rfm["Recency"].rank(method="first"), 5, labels=[5, 4, 3, 2, 1]).astype(int)
    rfm["F"] = pd.qcut(rfm["Frequency"].rank(method="first"), 5, labels=[1, 2, 3, 4, 5]).astype(int)
    rfm["M"] = pd.qcut(rfm["Monetary"].rank(method="first"), 5, labels=[1, 2, 3, 4, 5]).astype(int)

    def segment(row):
        fm = (row["F"] + row["M"] + 1) // 2
        r = row["R"]
        if r == 5 and fm >= 4:
            return "Champions"
        if r in (3, 4) and fm >= 4:
            return "Loyal Customers"
        if r in (4, 5) and fm in (2, 3):
            return "Potential Loyalists"
        if r == 5:
            return "New Customers"
        if r == 4:
            return "Promising"
        if r == 3 and fm == 3:
            return "Need Attention"
        if r == 3:
            return "About To Sleep"
        if fm == 5:
            return "Can't Lose Them"
        if fm >= 3:
            return "At Risk"
        return "Hibernating" if r == 2 else "Lost"

    rfm["Segment"] = rfm.apply(segment, axis=1)
    rfm.to_csv("/dev/null")


if __name__ == "__main__":
    main(sys.argv[1])
