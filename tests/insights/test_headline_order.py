"""The insights listed first: at most ``top_per_kind`` of one kind while other kinds have some."""

from __future__ import annotations

from custlens.insights.record import Insight, headline_first


def _insight(kind: str, n: int) -> Insight:
    return Insight(
        id=f"{kind}:{n}",
        kind=kind,
        title=f"{kind} {n}",
        finding="",
        metric="m",
        metric_value=0.0,
        test="t",
        action="a",
        subject_type="s",
        subject=str(n),
    )


def _ids(insights: list[Insight]) -> list[str]:
    return [i.id for i in insights]


def test_one_kind_cannot_fill_the_top_while_others_wait() -> None:
    # ranked: four cohort drops first (as on the demo data), then a shift and a customer list
    ranked = [_insight("cohort", n) for n in range(4)]
    ranked += [_insight("shift", 0), _insight("at_risk", 0), _insight("cohort", 4)]
    out = headline_first(ranked, top=4, per_kind=2)
    # by hand: cohort 0, cohort 1 (cap reached), shift 0, at_risk 0; then the rest in rank order
    assert _ids(out) == [
        "cohort:0",
        "cohort:1",
        "shift:0",
        "at_risk:0",
        "cohort:2",
        "cohort:3",
        "cohort:4",
    ]


def test_the_top_is_filled_from_the_skipped_when_kinds_run_out() -> None:
    ranked = [_insight("cohort", n) for n in range(4)] + [_insight("shift", 0)]
    out = headline_first(ranked, top=4, per_kind=1)
    # cohort 0 and shift 0 by the cap; cohorts 1 and 2 fill the top, kept in rank order
    assert _ids(out) == ["cohort:0", "cohort:1", "cohort:2", "shift:0", "cohort:3"]


def test_every_insight_is_kept_once() -> None:
    ranked = [_insight(k, n) for n in range(3) for k in ("a", "b", "c")]
    out = headline_first(ranked, top=5, per_kind=1)
    assert sorted(_ids(out)) == sorted(_ids(ranked))
    assert _ids(out)[:3] == ["a:0", "b:0", "c:0"]
    assert _ids(out)[3:5] == ["a:1", "b:1"]
