"""Local Spark sessions custlens starts get a few shuffle partitions per core instead of Spark's
200, unless a Spark setting gives them; clusters keep theirs. (The decision only reads the
session's master, its SparkConf and its core count: a small stand-in session is enough.)"""

from __future__ import annotations

import pytest

from custlens.config import Settings, SparkConfig
from custlens.errors import ConfigError
from custlens.io.spark_session import SHUFFLE_PARTITIONS, _local_shuffle_partitions


class _Conf:
    def __init__(self, given: dict[str, str]) -> None:
        self.given = dict(given)

    def contains(self, key: str) -> bool:
        return key in self.given

    def set(self, key: str, value: str) -> None:
        self.given[key] = value


class _Context:
    def __init__(self, master: str, cores: int, given: dict[str, str]) -> None:
        self.master, self.defaultParallelism, self._conf = master, cores, _Conf(given)

    def getConf(self) -> _Conf:  # noqa: N802 - PySpark's name
        return self._conf


class _Session:
    def __init__(self, master: str, cores: int, given: dict[str, str] | None = None) -> None:
        self.sparkContext = _Context(master, cores, given or {})
        self.conf = _Conf({})


@pytest.mark.parametrize(
    ("master", "cores", "per_core", "expected"),
    [("local[3]", 3, 2, "6"), ("local[*]", 8, 2, "16"), ("local[2]", 2, 5, "10")],
)
def test_a_local_session_gets_partitions_per_core(master, cores, per_core, expected):
    session = _Session(master, cores)
    _local_shuffle_partitions(session, SparkConfig(local_shuffle_per_core=per_core))
    assert session.conf.given == {SHUFFLE_PARTITIONS: expected}


@pytest.mark.parametrize("master", ["yarn", "spark://head:7077", "k8s://https://api:6443"])
def test_a_cluster_keeps_its_own_setting(master):
    session = _Session(master, 64)
    _local_shuffle_partitions(session, SparkConfig())
    assert session.conf.given == {}


def test_a_partition_count_the_user_set_wins():
    # [spark.conf], spark-defaults.conf and --conf all end up in the session's SparkConf
    session = _Session("local[2]", 2, {SHUFFLE_PARTITIONS: "64"})
    _local_shuffle_partitions(session, SparkConfig())
    assert session.conf.given == {}


def test_a_bad_per_core_count_is_a_config_error():
    with pytest.raises((ConfigError, ValueError)):
        Settings.model_validate({"spark": {"local_shuffle_per_core": 0}})
