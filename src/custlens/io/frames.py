"""Fetch a query's rows as a pandas DataFrame through Arrow.

Ibis's ``to_pandas()`` converts the Arrow result column by column after the query; for a wide
table (1M customers x 74 columns) that adds about 7 s. Arrow's own conversion gives the same
dtypes for the numeric, string and timestamp columns custlens fetches, in about 1 s.
"""

from __future__ import annotations

import ibis.expr.types as ir
import pandas as pd


def to_frame(table: ir.Table) -> pd.DataFrame:
    """The rows of ``table`` as pandas (numbers, strings and timestamps as ``to_pandas``)."""
    return table.to_pyarrow().to_pandas()
