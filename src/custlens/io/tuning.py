"""Engine settings for one query: DuckDB's perfect-hash aggregation for small integer keys.

DuckDB groups by integer keys of a known small range (``perfect_ht_threshold`` bits, 12 by
default) in a plain array instead of a hash table. Counting the pairs of frequent items groups
millions of joined rows by one integer below ``m * m`` (``m`` frequent items): for up to 2,048
items (22 bits: an array of 4M counts per thread, about 64 MB) the array is about twice as fast.
Other engines ignore this.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator

import ibis.expr.types as ir

__all__ = ["MAX_PERFECT_HASH_BITS", "perfect_hash_groups"]

MAX_PERFECT_HASH_BITS = 22
_SETTING = "perfect_ht_threshold"


@contextlib.contextmanager
def perfect_hash_groups(near: ir.Table, key_range: int) -> Iterator[None]:
    """Inside the block, DuckDB (``near``'s backend) groups integer keys in ``[0, key_range)``
    with an array when they need at most :data:`MAX_PERFECT_HASH_BITS` bits; the setting is put
    back afterwards."""
    con = near._find_backend(use_default=True)
    bits = max(1, int(key_range - 1).bit_length())
    if getattr(con, "name", None) != "duckdb" or bits > MAX_PERFECT_HASH_BITS:
        yield
        return
    [(before,)] = con.raw_sql(f"SELECT current_setting('{_SETTING}')").fetchall()
    if int(before) >= bits:
        yield
        return
    con.raw_sql(f"SET {_SETTING} = {bits}")
    try:
        yield
    finally:
        con.raw_sql(f"SET {_SETTING} = {int(before)}")
