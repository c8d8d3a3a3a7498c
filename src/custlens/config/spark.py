"""``[spark]``: the Spark session of ``custlens run --engine spark`` (see docs/scaling.md)."""

from __future__ import annotations

import re
from typing import Literal

from pydantic import Field, field_serializer, field_validator

from custlens.config.base import _Strict

__all__ = ["SparkConfig"]

# a Spark option whose value must not be written to run.json (keys, passwords, tokens)
_SECRET = re.compile(r"secret|password|token|credential|access\.?key", re.IGNORECASE)


class SparkConfig(_Strict):
    """How ``--engine spark`` gets its session.

    * ``master``: the master URL (``local[4]``, ``spark://host:7077``, ``yarn``...); the
      ``--spark-master`` flag overrides it. Unset: the session that is already running
      (spark-submit, a Databricks job), else Spark's own defaults (``spark-defaults.conf``,
      the ``MASTER`` environment variable, ``local[*]``).
    * ``app_name``: the application name shown by the cluster manager.
    * ``line_analyses``: where the analyses that read order lines after the customer table
      (anomalies, timing, basket, predictions, migration, insights) run: ``duckdb`` copies the
      cleaned lines to the driver's in-process DuckDB once (fast, needs the lines to fit the
      driver's disk), ``spark`` keeps them on Spark (one Spark job per query: slow, but nothing
      is collected).
    * ``local_shuffle_per_core``: in local mode (``local[N]``), the shuffle partitions per core
      (``spark.sql.shuffle.partitions``) when no Spark setting gives them: Spark's default of
      200 is sized for clusters and made each aggregation run 200 small tasks on a laptop.
      Clusters and sessions already running keep their own setting.
    * ``conf``: Spark options passed to the session builder, e.g.
      ``"spark.executor.memory" = "8g"`` (values are text). Options whose name mentions a secret,
      password, token, credential or access key are recorded as ``***`` in run.json.
    """

    master: str | None = None
    app_name: str = "custlens"
    line_analyses: Literal["duckdb", "spark"] = "duckdb"
    local_shuffle_per_core: int = Field(default=4, ge=1, le=1000)
    conf: dict[str, str] = Field(default_factory=dict)

    @field_validator("conf", mode="before")
    @classmethod
    def _as_text(cls, value: object) -> object:
        # TOML numbers and booleans ("spark.sql.shuffle.partitions" = 8) are Spark text options
        if isinstance(value, dict):
            return {
                str(k): str(v).lower() if isinstance(v, bool) else str(v) for k, v in value.items()
            }
        return value

    @field_serializer("conf", when_used="json")
    def _redact(self, conf: dict[str, str]) -> dict[str, str]:
        return {k: ("***" if _SECRET.search(k) else v) for k, v in conf.items()}
