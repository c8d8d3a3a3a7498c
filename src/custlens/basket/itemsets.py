"""Frequent itemsets (single items, pairs, triples) counted in the engine with Ibis.

Level-wise (Apriori) counting expressed as joins, so that the same expressions run on DuckDB and
PySpark: items are counted per basket; pairs come from a self-join of the basket lines restricted
to frequent items (``a.item < b.item``); triples extend two frequent pairs that share their first
item within a basket and keep the candidate when its third pair is frequent too. Every subset of
a frequent itemset is frequent, so nothing is missed; the counts are exact.

An itemset is frequent when its count is at least ``min_count`` and its support (count / baskets)
is at least ``min_support``, the same test as ``mlxtend``. With ``by`` (e.g. a segment column in
the lines) every group is counted separately against its own number of baskets.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence

import ibis.expr.types as ir
import numpy as np
import pandas as pd

from custlens.basket.baskets import lookup
from custlens.basket.masks import MAX_MASK_ITEMS, holding, mask_counts, sets_of
from custlens.errors import DataError
from custlens.io.materialize import materialize
from custlens.io.tuning import perfect_hash_groups

ITEM_COLUMNS = ("item_1", "item_2", "item_3")
_ALL = "__all__"


def count_threshold(baskets: int, min_support: float, min_count: int = 1) -> int:
    """The smallest count ``c >= min_count`` with ``c / baskets >= min_support`` (as floats).

    >>> count_threshold(18296, 0.01), count_threshold(200, 0.05, 20), count_threshold(100, 0.07)
    (183, 20, 7)
    """
    c = max(1, math.ceil(min_support * baskets))
    while c > 1 and (c - 1) / baskets >= min_support:
        c -= 1
    while c / baskets < min_support:
        c += 1
    return max(c, min_count)


def frequent_itemsets(
    lines: ir.Table,
    *,
    min_support: float,
    min_count: int = 1,
    max_size: int = 3,
    by: str | None = None,
    baskets: int | Mapping[str, int] | None = None,
) -> pd.DataFrame:
    """Frequent itemsets of ``lines`` (``basket, item`` and ``by``), one row each.

    ``baskets``: the number of baskets in ``lines`` when known (with ``by``: of each group
    present in ``lines``, by group value); else counted.

    Columns: ``[by,] size, item_1, item_2, item_3`` (items in ascending order, missing ones
    null), ``count`` (baskets containing every item), ``baskets`` (of the group) and ``support``.
    """
    if max_size not in (1, 2, 3):
        raise DataError(
            f"max_size must be 1, 2 or 3, got {max_size}",
            where="frequent_itemsets",
            fix="count pairs (2) or pairs and triples (3)",
        )
    if by:
        t = lines.select(g=lines[by].cast("string"), basket="basket", item="item")
        if isinstance(baskets, Mapping):
            known = sorted((str(g), int(n)) for g, n in baskets.items())
            groups = pd.DataFrame(
                {
                    "g": pd.Series([g for g, _ in known], dtype="str"),
                    "baskets": pd.Series([n for _, n in known], dtype="int64"),
                }
            )
        else:
            groups = t.group_by("g").aggregate(baskets=t.basket.nunique()).to_pandas()
    else:  # one group: no group column in the engine at all
        t = lines.select("basket", "item")
        if isinstance(baskets, Mapping):
            raise DataError(
                "baskets per group were given without a group column",
                where="frequent_itemsets(baskets=...)",
                fix="pass by= with a mapping of baskets, or one number of baskets",
            )
        n = baskets if baskets is not None else t.basket.nunique().to_pandas()
        groups = pd.DataFrame({"g": [_ALL], "baskets": [int(n)]})
    keys = ["g"] if by else []
    groups["threshold"] = [
        count_threshold(int(n), min_support, min_count) for n in groups["baskets"]
    ]
    keep = _keep(groups, lines)
    singles = keep(t.group_by([*keys, "item"]).aggregate(n=t.count())).to_pandas()
    singles = singles.rename(columns={"item": "i1"}).assign(g=singles.get("g", _ALL))
    found = [singles.assign(size=1)]
    if max_size >= 2 and len(singles):
        # frequent items get integer codes in string order, so that the joins compare integers
        # and a pair is one integer key; a basket belongs to one group, so baskets are joined
        # on the basket alone
        names = np.array(sorted(set(singles["i1"])), dtype=object)
        m = len(names)
        frequent = pd.DataFrame({"fg": singles["g"], "fitem": singles["i1"]})
        frequent["code"] = np.searchsorted(names, frequent["fitem"].to_numpy()).astype("int64")
        if m <= MAX_MASK_ITEMS:
            pairs, triples = _from_masks(t, frequent, groups, lines, keys, m, max_size)
            for k in (1, 2, 3):
                triples[f"i{k}"] = names[triples.pop(f"c{k}").to_numpy(dtype="int64")]
            for k in (1, 2):
                pairs[f"i{k}"] = names[pairs.pop(f"c{k}").to_numpy(dtype="int64")]
            found += [f.assign(size=k) for k, f in ((2, pairs), (3, triples)) if len(f)]
            return _finish(found, groups, by)
        # groups are integers too (their row of ``groups``), counted in the pairs' keys
        codes = ["gc"] if by else []
        if by:
            groups["gc"] = np.arange(len(groups), dtype="int64")
            frequent["gc"] = pd.Index(groups["g"]).get_indexer(frequent["fg"])
            f = lookup(frequent[["fg", "fitem", "code", "gc"]], lines)
            kept = t.join(f, [t.g == f.fg, t.item == f.fitem]).select("gc", "basket", "code")
        else:
            f = lookup(frequent[["fitem", "code"]], lines)
            kept = t.join(f, t.item == f.fitem).select("basket", "code")
        # the lines of frequent items as integers, joined on their text once (pairs and
        # triples both read them)
        kept = materialize(kept, "basket_codes")
        coded_keep = _keep(groups, lines, on="gc") if by else keep
        pairs = _pairs(kept, m, groups, coded_keep, lines, codes)
        if max_size == 3 and len(pairs) > 1:
            triples = _triples(kept, pairs, coded_keep, lines, codes, groups)
            for k in (1, 2, 3):
                triples[f"i{k}"] = names[triples.pop(f"c{k}").to_numpy(dtype="int64")]
            found.append(triples.assign(size=3))
        for k in (1, 2):
            pairs[f"i{k}"] = names[pairs.pop(f"c{k}").to_numpy(dtype="int64")]
        found.insert(1, pairs.drop(columns="gc").assign(size=2))
    return _finish(found, groups, by)


def itemsets_of_masks(
    counts: pd.DataFrame,
    items: Sequence[str],
    *,
    min_support: float,
    min_count: int = 1,
    max_size: int = 3,
) -> pd.DataFrame:
    """:func:`frequent_itemsets` of baskets given as bit masks: ``counts`` holds ``mask, n``
    (the number of kept baskets of each set of ``items``, item ``k`` being bit ``k``; at most
    ``MAX_MASK_ITEMS`` items). The same table as the engine's counting of the basket lines.

    Every set of items is counted by a superset sum over the masks; a set is frequent when its
    count passes the threshold (a frequent set's items are then frequent too, so no candidate
    is needed)."""
    if max_size not in (1, 2, 3):
        raise DataError(
            f"max_size must be 1, 2 or 3, got {max_size}",
            where="itemsets_of_masks",
            fix="count pairs (2) or pairs and triples (3)",
        )
    m = len(items)
    if m > MAX_MASK_ITEMS:
        raise DataError(
            f"{m} items are too many for bit masks (at most {MAX_MASK_ITEMS})",
            where="itemsets_of_masks",
            fix="count the basket lines with frequent_itemsets",
        )
    n = int(counts["n"].sum())
    groups = pd.DataFrame({"g": [_ALL], "baskets": [n]})
    threshold = count_threshold(n, min_support, min_count) if n else 1
    names = np.array(list(items), dtype=object)
    h = holding(counts["mask"].to_numpy(), counts["n"].to_numpy(), m)
    found = []
    for size in range(1, max_size + 1):
        sets = sets_of(m, size)
        got = h[np.left_shift(1, sets).sum(axis=1)] if len(sets) else np.zeros(0, "int64")
        keep = got >= threshold
        part = pd.DataFrame({f"i{k + 1}": names[sets[keep, k]] for k in range(size)})
        part = part.assign(g=_ALL, n=got[keep].astype("int64"), size=size)
        if size == 1 or len(part):
            found.append(part)
    return _finish(found, groups, None)


def _finish(found: list[pd.DataFrame], groups: pd.DataFrame, by: str | None) -> pd.DataFrame:
    """One table of the itemsets found, with their group's baskets and support, sorted."""
    out = pd.concat(found, ignore_index=True)
    out = out.rename(columns={"i1": "item_1", "i2": "item_2", "i3": "item_3", "n": "count"})
    for col in ITEM_COLUMNS:
        if col not in out.columns:
            out[col] = None
        out[col] = out[col].astype(object).where(out[col].notna(), None)
    out = out.merge(groups[["g", "baskets"]], on="g", how="left")
    out["count"] = out["count"].astype("int64")
    out["baskets"] = out["baskets"].astype("int64")
    out["size"] = out["size"].astype("int64")
    out["support"] = out["count"] / out["baskets"].astype("float64")
    out = out.sort_values(["g", "size", *ITEM_COLUMNS], kind="stable", na_position="first")
    columns = ["size", *ITEM_COLUMNS, "count", "baskets", "support"]
    if by:
        out = out.rename(columns={"g": by})
        columns = [by, *columns]
    return out[columns].reset_index(drop=True)


def _group_names(groups: pd.DataFrame, codes: pd.Series) -> pd.api.extensions.ExtensionArray:
    """The name (``g``) of the group of each code (a row of ``groups``), in ``g``'s dtype."""
    return groups["g"].array.take(codes.to_numpy(dtype="int64"))


def _keep(groups: pd.DataFrame, near: ir.Table, on: str = "g"):
    """A filter keeping the counts ``n`` at or above their group's threshold (the group is
    the column ``on`` of ``groups`` and of the counts)."""
    if len(groups) == 1:
        threshold = int(groups["threshold"].iloc[0])
        return lambda counts: counts.filter(counts.n >= threshold)
    thresholds = lookup(groups[[on, "threshold"]].rename(columns={on: "tg"}), near)

    def keep(counts: ir.Table) -> ir.Table:
        joined = counts.join(thresholds, counts[on] == thresholds.tg)
        return joined.filter(joined.n >= joined.threshold).drop("tg", "threshold")

    return keep


def _pairs(
    kept: ir.Table, m: int, groups: pd.DataFrame, keep, near: ir.Table, keys: list[str]
) -> pd.DataFrame:
    """Frequent pairs ``gc, c1 < c2, n, g`` of ``kept`` (``[gc,] basket, code``: ``keys`` is
    ``["gc"]`` when the lines have groups). A basket's pair is one integer key below
    ``len(groups) * m * m`` (its group's code ``gc`` is 0 without groups), so that DuckDB counts
    the pairs in an array."""
    a = kept.select(*keys, "basket", c1="code")
    b = kept.select(b2="basket", c2="code")
    joined = a.join(b, [a.basket == b.b2, a.c1 < b.c2])
    pair = joined.c1 * m + joined.c2
    if keys:
        pair = joined.gc * (m * m) + pair
    lines = joined.select(pair=pair)
    counted = lines.group_by("pair").aggregate(n=lines.count())
    if keys:  # each pair's group, for its threshold
        counted = counted.mutate(gc=counted.pair // (m * m))
    with perfect_hash_groups(near, len(groups) * m * m):
        found = keep(counted).to_pandas()
    key = found.pop("pair").to_numpy(dtype="int64")
    found = found.assign(gc=key // (m * m), c1=key // m % m, c2=key % m)
    return found.assign(g=_group_names(groups, found["gc"]))


def _triples(
    kept: ir.Table,
    pairs: pd.DataFrame,
    keep,
    near: ir.Table,
    keys: list[str],
    groups: pd.DataFrame,
) -> pd.DataFrame:
    """Triples ``c1 < c2 < c3`` whose three pairs are frequent (candidates built here from the
    frequent pairs, as Apriori does), counted over the baskets holding all three. ``keys``:
    ``["gc"]`` when the lines have groups (their row of ``groups``), else none."""
    frequent = set(zip(pairs["gc"], pairs["c1"], pairs["c2"], strict=True))
    by_first: dict = {}
    for g, c1, c2 in sorted(frequent):
        by_first.setdefault((g, c1), []).append(c2)
    rows = [
        (g, c1, x, y)
        for (g, c1), seconds in by_first.items()
        for i, x in enumerate(seconds)
        for y in seconds[i + 1 :]
        if (g, x, y) in frequent
    ]
    if not rows:
        return pd.DataFrame(columns=["g", "c1", "c2", "c3", "n"])
    frame = pd.DataFrame(rows, columns=["cg", "k1", "k2", "k3"])
    cand = lookup(frame if keys else frame.drop(columns="cg"), near)
    on = [kept.code == cand.k1, *([kept.gc == cand.cg] if keys else [])]
    x = kept.join(cand, on).select(*keys, "basket", c1="k1", c2="k2", c3="k3")
    y = kept.select(yb="basket", yc="code")
    x = x.semi_join(y, [x.basket == y.yb, x.c2 == y.yc])
    z = kept.select(zb="basket", zc="code")
    x = x.semi_join(z, [x.basket == z.zb, x.c3 == z.zc])
    found = keep(x.group_by([*keys, "c1", "c2", "c3"]).aggregate(n=x.count())).to_pandas()
    if not keys:
        return found.assign(g=_ALL)
    return found.assign(g=_group_names(groups, found.pop("gc")))


def _from_masks(
    t: ir.Table,
    frequent: pd.DataFrame,
    groups: pd.DataFrame,
    near: ir.Table,
    keys: list[str],
    m: int,
    max_size: int,
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Frequent pairs and triples (``g, c1, c2[, c3], n``) of at most ``MAX_MASK_ITEMS``
    frequent items, from the baskets counted per set of frequent items (exact counts, so the
    same itemsets as the level-wise joins)."""
    frequent = frequent.assign(bit=np.left_shift(1, frequent["code"].to_numpy(dtype="int64")))
    if keys:
        f = lookup(frequent[["fg", "fitem", "bit"]], near)
        coded = t.join(f, [t.g == f.fg, t.item == f.fitem]).select("g", "basket", "bit")
    else:
        f = lookup(frequent[["fitem", "bit"]], near)
        coded = t.join(f, t.item == f.fitem).select("basket", "bit")
    counts = mask_counts(coded, keys)
    if not keys:
        counts["g"] = _ALL
    thresholds = dict(zip(groups["g"], groups["threshold"].astype("int64"), strict=True))
    sizes = [2, 3] if max_size == 3 else [2]
    parts: dict[int, list[pd.DataFrame]] = {2: [], 3: []}
    for g, rows in counts.groupby("g", sort=True):
        h = holding(rows["mask"].to_numpy(), rows["n"].to_numpy(), m)
        for size in sizes:
            sets = sets_of(m, size)
            n = h[np.left_shift(1, sets).sum(axis=1)]
            keep = n >= thresholds[g]
            part = pd.DataFrame({f"c{k + 1}": sets[keep, k] for k in range(size)})
            parts[size].append(part.assign(g=g, n=n[keep]))
    empty = {2: ["g", "c1", "c2", "n"], 3: ["g", "c1", "c2", "c3", "n"]}
    pairs, triples = (
        pd.concat(parts[k], ignore_index=True) if parts[k] else pd.DataFrame(columns=empty[k])
        for k in (2, 3)
    )
    return pairs, triples
