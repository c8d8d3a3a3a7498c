"""The customer table with its behavioural features as one SQL query, compiled once per shape.

Building and compiling the Ibis expression of the customer table and the behavioural features
costs about 2 s of Python (a 37 kB query, most of it in Ibis's SQL rewrites), while DuckDB runs
it in a fraction of that on Online Retail. A full run needs it at four dates over different lines
(the customer table, the evaluation and training backtests, the final scoring). So the query is
compiled once per engine, input columns and settings, against two placeholder tables and a
placeholder date from which every date the features use is derived in the engine; each use
registers its inputs as views, puts their names and the date's literal in, and runs the text.
The engine runs the query the same Ibis code would compile for that date; the Spark path uses
the same template in Spark's dialect.
"""

from __future__ import annotations

import logging
import threading
import uuid
import weakref
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any

import ibis
import ibis.expr.operations as ops
import ibis.expr.types as ir
import sqlglot as sg
import sqlglot.expressions as sge

from custlens.config import FeaturesConfig
from custlens.features.behavioral import behavioral_table
from custlens.features.rfm import customer_table_before
from custlens.io.materialize import drop_views, source_sql, workdir
from custlens.io.sql import sql_ident, sql_literal

__all__ = ["FeatureQuery", "feature_query"]

log = logging.getLogger(__name__)

_PLACEHOLDER_DAY = date(2999, 11, 29)  # no order date: the text it compiles to is replaced
_PURCHASES = "custlens_placeholder_purchases"
_RETURNS = "custlens_placeholder_returns"
_PROBE = "custlens_placeholder_probe"
_MAX_TEMPLATES = 16

_templates: dict[tuple[Any, ...], _Template] = {}
_kept: weakref.WeakKeyDictionary[Any, dict[tuple[str, ...], Path]] = weakref.WeakKeyDictionary()
_lock = threading.Lock()


@dataclass(frozen=True)
class _Template:
    sql: str
    schema: ibis.Schema
    skipped: tuple[str, ...]
    behavioral_columns: tuple[str, ...]
    day_text: str  # how the placeholder day appears in ``sql``


@dataclass(frozen=True)
class FeatureQuery:
    """The customer table as of a date (with the behavioural features when asked), as a table
    that reads the compiled query; ``skipped``: notes on behavioural features left out."""

    table: ir.Table
    skipped: tuple[str, ...]
    behavioral_columns: tuple[str, ...]  # the columns after the customer table's


def feature_query(
    purchases: ir.Table,
    returns: ir.Table | None,
    as_of: date,
    config: FeaturesConfig | None = None,
    *,
    behavioral: bool = True,
    keep: bool = False,
) -> FeatureQuery:
    """``customer_table_before(purchases, returns, as_of)`` left-joined with
    ``behavioral_features(purchases, returns, as_of=as_of)`` on ``customer_id`` (its columns
    first, then the behavioural ones it lacks), without compiling the Ibis expression again for
    another date or other lines of the same columns.

    ``keep``: on DuckDB, store the rows (in the connection's private folder, removed with it) so
    that a later call with the same lines, date and settings reads them instead of running the
    query again (the pipeline keeps the customer table's; the final scoring asks for the same).
    """
    config = config or FeaturesConfig()
    con = purchases._find_backend(use_default=True)
    template = _template(con, purchases, returns, config, behavioral)
    key = _kept_key(con, template, purchases, returns, as_of)
    stored = None if key is None else _kept.get(con, {}).get(key)
    if stored is not None and stored.exists():
        log.debug("features as of %s read from %s", as_of, stored.name)
        return _read_kept(con, template, stored)
    sql = template.sql.replace(template.day_text, _day_text(con, as_of))
    views = {_PURCHASES: _view(con, purchases, "purchases")}
    if returns is not None:
        views[_RETURNS] = _view(con, returns, "returns")
    for placeholder, name in views.items():
        sql = sql.replace(placeholder, name)
    # a view, not ``con.sql(sql)``: Ibis would parse the text again each time it compiles a
    # query that reads it (0.6 s for this one)
    name = _new_name("features")
    create = sge.Create(
        this=sg.table(name, quoted=True),
        kind="VIEW",
        replace=True,
        expression=sql,
        properties=sge.Properties(expressions=[sge.TemporaryProperty()]),
    )
    con.raw_sql(create.sql(dialect=con.dialect))
    for note in template.skipped:
        log.info("feature skipped: %s", note)
    if keep and key is not None:  # run once into the file; the result reads it
        path = workdir(con) / f"{name}.parquet"
        target = f"{sql_literal(str(path))} (FORMAT parquet)"
        con.raw_sql(f"COPY (SELECT * FROM {sql_ident(name)}) TO {target}")
        drop_views(weakref.ref(con), (name, *views.values()))
        _kept.setdefault(con, {})[key] = path
        return _read_kept(con, template, path)
    return _result(con, template, name, tuple(views.values()))


def _read_kept(con: Any, template: _Template, path: Path) -> FeatureQuery:
    name = _new_name("kept")
    con.read_parquet(path, table_name=name)
    return _result(con, template, name, ())


def _result(con: Any, template: _Template, name: str, inputs: tuple[str, ...]) -> FeatureQuery:
    # the schema the Ibis expression has (the engine may store e.g. a flag wider), which the
    # results are converted to as before
    table = ops.DatabaseTable(
        name, schema=template.schema, source=con, namespace=ops.Namespace()
    ).to_expr()
    # the views go with the last expression that reads them
    finalizer = weakref.finalize(table.op(), drop_views, weakref.ref(con), (name, *inputs))
    finalizer.atexit = False
    return FeatureQuery(table, template.skipped, template.behavioral_columns)


def _kept_key(
    con: Any, template: _Template, purchases: ir.Table, returns: ir.Table | None, day: date
) -> tuple[str, ...] | None:
    """What identifies a result (the query and its inputs' SQL), on DuckDB; None elsewhere."""
    if getattr(con, "name", None) != "duckdb":
        return None
    lines = source_sql(con, purchases), "" if returns is None else source_sql(con, returns)
    return template.sql, *lines, day.isoformat()


def _template(
    con: Any, purchases: ir.Table, returns: ir.Table | None, config: FeaturesConfig, behave: bool
) -> _Template:
    key = (
        type(con).__module__,
        con.name,
        purchases.schema(),
        None if returns is None else returns.schema(),
        config.model_dump_json(),
        behave,
    )
    with _lock:
        found = _templates.get(key)
    if found is not None:
        return found
    p = ibis.table(purchases.schema(), name=_PURCHASES)
    r = None if returns is None else ibis.table(returns.schema(), name=_RETURNS)
    day = ibis.literal(_PLACEHOLDER_DAY, type="date")
    table = customer_table_before(p, r, day)
    skipped: list[str] = []
    extra: list[str] = []
    if behave:
        features, skipped = behavioral_table(p, r, day, config)
        extra = [c for c in features.columns if c not in table.columns]
        features = features.select("customer_id", *extra).rename(_cid="customer_id")
        joined = table.left_join(features, table.customer_id == features._cid)
        table = joined.select(*table.columns, *extra)
    sql = con.compile(table)
    day_text = _day_text(con, _PLACEHOLDER_DAY)
    if day_text not in sql or _PURCHASES not in sql:  # pragma: no cover - an Ibis change
        raise RuntimeError("the feature query does not show its placeholders; report this bug")
    found = _Template(sql, table.schema(), tuple(skipped), tuple(extra), day_text)
    with _lock:
        if len(_templates) >= _MAX_TEMPLATES:
            _templates.pop(next(iter(_templates)))
        _templates[key] = found
    return found


def _day_text(con: Any, day: date) -> str:
    """The SQL text of the date literal ``day`` in ``con``'s dialect."""
    probe = ibis.table({"x": "int64"}, name=_PROBE)
    sql = con.compile(probe.select(custlens_day=ibis.literal(day, type="date")))
    head = sql[: sql.rindex("custlens_day")].rstrip("\"`' ")
    head = head.removesuffix(" AS").removesuffix(" as")
    return head[head.index("SELECT") + len("SELECT") :].strip()


def _new_name(what: str) -> str:
    return f"custlens_{what}_{uuid.uuid4().hex[:12]}"


def _view(con: Any, table: ir.Table, what: str) -> str:
    """The name of a new view of ``table`` in ``con``."""
    name = _new_name(what)
    con.create_view(name, table, overwrite=True)
    return name
