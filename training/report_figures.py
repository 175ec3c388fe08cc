"""The coverage report's figures, computed from its scored sentences: the timeline's counts per
period, the matrix, the evidence per cell, the outlets, and the codebook checks.

Apart from ``training/report.py`` (which reads the input, writes the files and is the command):
this is the arithmetic over :class:`training.report_inputs.Row`, with no file or model in it.
"""

from __future__ import annotations

from collections import defaultdict
from datetime import date

from stance.scheme import Scheme
from training.report_inputs import Row, article_fields

EVIDENCE_PER_CELL = 5


def period_of(d: date | None, by: str) -> str | None:
    if d is None:
        return None
    if by == "month":
        return f"{d.year}-{d.month:02d}"
    iso = d.isocalendar()
    return f"{iso.year}-W{iso.week:02d}"


def all_periods(dates: list[date], by: str) -> list[str]:
    """Every period from the first dated article to the last, in order."""
    if not dates:
        return []
    from datetime import timedelta

    out, d, last = [], min(dates), max(dates)
    while d <= last + timedelta(days=7 if by == "week" else 31):
        key = period_of(d, by)
        if not out or out[-1] != key:
            out.append(key)
        d += timedelta(days=7 if by == "week" else 28)
    last_key = period_of(last, by)
    return out[: out.index(last_key) + 1]


def aggregate(rows: list[Row], scheme: Scheme, by: str) -> dict:
    pairs = scheme.pairs
    expected: dict[str, dict] = defaultdict(lambda: dict.fromkeys(pairs, 0.0))
    argmax: dict[str, dict] = defaultdict(lambda: dict.fromkeys(pairs, 0))
    outlets: dict[str, dict] = defaultdict(lambda: dict.fromkeys(pairs, 0))
    articles: dict[str, set] = defaultdict(set)  # a period's zero counts mean little where it has no article
    # the articles with a sentence called each pair: a headline, its lede and a quote of one stance
    # are three sentences and one article
    holding: dict[str, dict] = defaultdict(lambda: {pair: set() for pair in pairs})
    for r in rows:
        for key in (period_of(r.meta.date, by) or "undated", "total"):
            articles[key].add(r.meta.article)
            for pair, p in r.pair_probs.items():
                expected[key][pair] += p
            if r.stance != scheme.none:
                argmax[key][(r.actor, r.stance)] += 1
                holding[key][(r.actor, r.stance)].add(r.meta.article)
        if r.stance != scheme.none:
            outlets[r.meta.outlet or "(unknown outlet)"][(r.actor, r.stance)] += 1
    periods = all_periods([r.meta.date for r in rows if r.meta.date], by)
    for p in periods:  # a period with no article is a real zero on the time axis, not a gap
        expected[p], argmax[p]  # noqa: B018 (the defaultdicts create the row)
    evidence = {}
    for pair in pairs:
        best = sorted((r for r in rows if (r.actor, r.stance) == pair), key=lambda r: -r.confidence)
        evidence[pair] = best[:EVIDENCE_PER_CELL]
    return {
        "pairs": pairs,
        "periods": periods,
        "expected": expected,
        "argmax": argmax,
        "outlets": outlets,
        "evidence": evidence,
        "articles": {key: len(articles[key]) for key in expected},
        "pair_articles": {key: {pair: len(holding[key][pair]) for pair in pairs} for key in expected},
    }


def prediction_checks(rows: list[Row], scheme: Scheme) -> list[dict]:
    from labeling.rules import check_pairs, load_rules

    rules = load_rules(scheme)
    out = []
    for r in rows:
        if r.stance == scheme.none and r.actor == scheme.none:
            continue
        for v in check_pairs(rules, [{"actor": r.actor, "stance": r.stance}], r.sentence_id, scheme.none):
            out.append(
                {
                    "rule": v.rule,
                    "sentence_id": r.sentence_id,
                    **article_fields(r.meta),  # as the evidence names it: headline, outlet, date, url
                    "detail": v.detail,
                    "text": r.text,
                }
            )
    return out
