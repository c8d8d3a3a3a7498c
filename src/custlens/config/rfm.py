"""RFM scores and the named segment table (R x FM), as data."""

from __future__ import annotations

import re
import unicodedata

from pydantic import Field, model_validator

from custlens.config.base import _Strict

RFM_BINS = 5


def segment_slug(name: str) -> str:
    """A segment's CRM list file name: ``"Can't Lose Them"`` -> ``"cant_lose_them"``.

    Letters of every script are kept (``"Stammkunden Größe"`` -> ``"stammkunden_größe"``); runs
    of anything else become one ``_``. Names equal ignoring case, spaces and punctuation give the
    same slug, so the segment table refuses them (``RFMConfig``).

    >>> segment_slug("Can't Lose Them"), segment_slug("AT-RISK"), segment_slug("顧客")
    ('cant_lose_them', 'at_risk', '顧客')
    """
    text = unicodedata.normalize("NFKC", name).lower().replace("'", "").replace("\u2019", "")
    slug = re.sub(r"[\W_]+", "_", text).strip("_")[:100]
    return slug or "segment"


class SegmentRule(_Strict):
    """One named RFM segment: a rectangle in the R x FM grid (scores 1-5, inclusive)."""

    name: str
    r: tuple[int, int]
    fm: tuple[int, int]
    description: str
    action: str


DEFAULT_SEGMENTS = [
    SegmentRule(
        name="Champions",
        r=(5, 5),
        fm=(4, 5),
        description="Bought recently, buy often and spend the most.",
        action="Reward them; ask for reviews; offer early access to new products.",
    ),
    SegmentRule(
        name="Loyal Customers",
        r=(3, 4),
        fm=(4, 5),
        description="Spend good money often; responsive to promotions.",
        action="Upsell higher-value products; enrol in a loyalty programme.",
    ),
    SegmentRule(
        name="Potential Loyalists",
        r=(4, 5),
        fm=(2, 3),
        description="Recent customers with average frequency and spend.",
        action="Offer membership or a loyalty programme; recommend related products.",
    ),
    SegmentRule(
        name="New Customers",
        r=(5, 5),
        fm=(1, 1),
        description="Bought very recently, but not often and not much yet.",
        action="Onboard them well; send a welcome series and build the relationship.",
    ),
    SegmentRule(
        name="Promising",
        r=(4, 4),
        fm=(1, 1),
        description="Recent shoppers who have not spent much.",
        action="Create brand awareness; offer free trials or a small incentive.",
    ),
    SegmentRule(
        name="Need Attention",
        r=(3, 3),
        fm=(3, 3),
        description="Above-average recency, frequency and spend, but slowing down.",
        action="Make limited-time offers based on their purchase history.",
    ),
    SegmentRule(
        name="About To Sleep",
        r=(3, 3),
        fm=(1, 2),
        description="Below-average recency, frequency and spend; will be lost without action.",
        action="Share valuable resources; recommend popular products; reconnect.",
    ),
    SegmentRule(
        name="At Risk",
        r=(1, 2),
        fm=(3, 4),
        description="Spent good money often, but long ago.",
        action="Send personalised emails to reconnect; offer renewals and helpful content.",
    ),
    SegmentRule(
        name="Can't Lose Them",
        r=(1, 2),
        fm=(5, 5),
        description="Made the biggest and most frequent purchases, but have not returned for a long time.",
        action="Win them back with renewals or new products; talk to them directly.",
    ),
    SegmentRule(
        name="Hibernating",
        r=(2, 2),
        fm=(1, 2),
        description="Last purchase long ago, low spend and few orders.",
        action="Offer other relevant products and special discounts; recreate brand value.",
    ),
    SegmentRule(
        name="Lost",
        r=(1, 1),
        fm=(1, 2),
        description="Lowest recency, frequency and spend.",
        action="Revive interest with an outreach campaign; otherwise spend little on them.",
    ),
]


class RFMConfig(_Strict):
    """RFM scoring and the segment table (every R x FM cell maps to exactly one segment)."""

    segments: list[SegmentRule] = Field(default_factory=lambda: list(DEFAULT_SEGMENTS))

    @model_validator(mode="after")
    def _check_partition(self) -> RFMConfig:
        cells: dict[tuple[int, int], str] = {}
        for rule in self.segments:
            for lo, hi, axis in ((rule.r[0], rule.r[1], "r"), (rule.fm[0], rule.fm[1], "fm")):
                if not (1 <= lo <= hi <= RFM_BINS):
                    raise ValueError(
                        f"segment {rule.name!r}: {axis} range {lo}..{hi} must lie within 1..{RFM_BINS}"
                    )
            for r in range(rule.r[0], rule.r[1] + 1):
                for fm in range(rule.fm[0], rule.fm[1] + 1):
                    if (r, fm) in cells:
                        raise ValueError(
                            f"R={r}, FM={fm} is claimed by both {cells[(r, fm)]!r} and {rule.name!r}"
                        )
                    cells[(r, fm)] = rule.name
        missing = [
            (r, fm)
            for r in range(1, RFM_BINS + 1)
            for fm in range(1, RFM_BINS + 1)
            if (r, fm) not in cells
        ]
        if missing:
            cells_text = "; ".join(f"R={r}, FM={fm}" for r, fm in missing)
            raise ValueError(f"no segment covers the cells {cells_text}")
        slugs: dict[str, set[str]] = {}
        for rule in self.segments:
            slugs.setdefault(segment_slug(rule.name), set()).add(rule.name)
        clashes = [sorted(names) for names in slugs.values() if len(names) > 1]
        if clashes:
            raise ValueError(
                f"segment names {clashes} differ only by case, spaces or punctuation: their CRM "
                "lists would share one file name; rename them so that they differ in letters"
            )
        return self

    def segment_of(self, r: int, fm: int) -> SegmentRule:
        for rule in self.segments:
            if rule.r[0] <= r <= rule.r[1] and rule.fm[0] <= fm <= rule.fm[1]:
                return rule
        raise KeyError((r, fm))  # unreachable: the validator guarantees a partition
