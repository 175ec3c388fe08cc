"""How far to trust a prediction's ``p``: how often the pair is right, by confidence band.

``p`` has one definition (:func:`pair_confidence`): predict's ``p`` column, Label Studio's
prediction score and the bands below all use it. The bands are read on sentences the model
never saw (the grouped-CV out-of-fold predictions and the time split's newest articles), so an
analyst can tell which rows to check: "of the rows with p ≥ 0.9, this share of the article,
this many right". Kept free of heavy imports (numpy only): rows are the dicts training logs
(``evaluation/oof_predictions.jsonl``, ``evaluation/time_split_predictions.jsonl``).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass

EDGES = (0.0, 0.5, 0.7, 0.9)  # band lower edges; the last band runs to 1
LEVELS = (0.5, 0.7, 0.9)  # "p at least": the rows an analyst could take unchecked


def pair_confidence(
    actor_p: Mapping[str, float], stance_p: Mapping[str, float], actor: str, stance: str, none: str
) -> float:
    """How sure the model is of its pair (actor, stance).

    For no stance, p(stance none); for a pair, p(stance) x p(actor | the sentence has a stance):
    the actor facet's probabilities include the none actor, so they are renormalised over the
    stance-holding actors before the product.
    """
    actors, stances = list(actor_p), list(stance_p)
    one = pair_confidences(
        [list(actor_p.values())], [list(stance_p.values())], [actor], [stance], actors, stances, none
    )
    return float(one[0])


def pair_confidences(actor_p, stance_p, actors, stances, actor_labels, stance_labels, none):
    """:func:`pair_confidence` for every row of two probability matrices (the model's and batch
    scoring's ``p``); columns in the order of ``actor_labels`` and ``stance_labels``."""
    import numpy as np

    actor_p, stance_p = np.asarray(actor_p, dtype=float), np.asarray(stance_p, dtype=float)
    rows = np.arange(len(stance_p))
    s_idx = np.array([stance_labels.index(s) for s in stances], dtype=int)
    is_none = np.array([s == none for s in stances], dtype=bool)
    a_idx = np.array(
        [actor_labels.index(none if n else a) for a, n in zip(actors, is_none, strict=True)], dtype=int
    )
    holders = np.delete(actor_p, actor_labels.index(none), axis=1).sum(axis=1)
    pair = stance_p[rows, s_idx] * actor_p[rows, a_idx] / np.maximum(holders, 1e-9)
    return np.where(is_none, stance_p[rows, s_idx], pair)


@dataclass(frozen=True)
class Band:
    """Sentences whose ``p`` lies in [low, high) (the top band includes 1)."""

    low: float
    high: float
    sentences: int
    right: int  # the whole pair right (no stance counts as the pair (none, none))
    with_stance: int  # of them, predicted to hold a stance (what an article's profile counts)
    with_stance_right: int

    def share(self, total: int) -> float:
        return self.sentences / total if total else 0.0

    @property
    def accuracy(self) -> float | None:
        return self.right / self.sentences if self.sentences else None

    @property
    def stance_accuracy(self) -> float | None:
        return self.with_stance_right / self.with_stance if self.with_stance else None


def scored(rows: Iterable[Mapping], none: str) -> list[tuple[float, bool, bool]]:
    """(p, pair right, predicted a stance) per logged row; rows without ``actor_p`` are refused."""
    out = []
    for r in rows:
        if "actor_p" not in r:
            raise ValueError(
                f"{r.get('sentence_id', 'a row')}: no actor_p logged (a run older than the confidence "
                "bands); retrain it to read its bands"
            )
        actor, stance = r["predicted"]
        p = pair_confidence(r["actor_p"], r["stance_p"], actor, stance, none)
        out.append((p, list(r["predicted"]) == list(r["true"]), stance != none))
    return out


def bands(rows: Iterable[Mapping], none: str, edges: Sequence[float] = EDGES) -> list[Band]:
    """The rows' pair accuracy per confidence band (every band listed, empty ones too)."""
    points = scored(rows, none)
    out = []
    for i, low in enumerate(edges):
        high = edges[i + 1] if i + 1 < len(edges) else 1.0
        top = i + 1 == len(edges)
        inside = [x for x in points if low <= x[0] and (x[0] < high or top)]
        stance = [x for x in inside if x[2]]
        out.append(
            Band(low, high, len(inside), sum(x[1] for x in inside), len(stance), sum(x[1] for x in stance))
        )
    return out


def at_least(rows: Iterable[Mapping], none: str, levels: Sequence[float] = LEVELS) -> dict[float, tuple]:
    """For each level t: (share of sentences with p ≥ t, pair accuracy among them or None)."""
    points = scored(rows, none)
    out = {}
    for t in levels:
        kept = [x for x in points if x[0] >= t]
        share = len(kept) / len(points) if points else 0.0
        out[t] = (share, sum(x[1] for x in kept) / len(kept) if kept else None)
    return out


def metrics(rows: Sequence[Mapping], none: str, prefix: str) -> dict[str, float]:
    """``{prefix}_p90_share`` and ``{prefix}_p90_accuracy``: the confident rows, for MLflow."""
    share, accuracy = at_least(rows, none, (0.9,))[0.9]
    out = {f"{prefix}_p90_share": share}
    if accuracy is not None:
        out[f"{prefix}_p90_accuracy"] = accuracy
    return out


def markdown(rows: Sequence[Mapping], none: str, title: str) -> str:
    """One table per prediction set: band, share of sentences, pair right, the stance-bearing rows."""

    def pct(x: float | None) -> str:
        return "–" if x is None else f"{x:.2f}"

    table = bands(rows, none)
    total = sum(b.sentences for b in table)
    lines = [
        f"## {title} ({total} sentences)",
        "",
        "| p | sentences | share | pair right | predicted a stance | of those, pair right |",
        "|---|---|---|---|---|---|",
    ]
    for b in table:
        span = f"[{b.low:.1f}, {b.high:.1f}]" if b.high >= 1.0 else f"[{b.low:.1f}, {b.high:.1f})"
        lines.append(
            f"| {span} | {b.sentences} | {pct(b.share(total))} | {pct(b.accuracy)} | {b.with_stance} "
            f"| {pct(b.stance_accuracy)} |"
        )
    lines += ["", "| p at least | share of sentences | pair right among them |", "|---|---|---|"]
    for t, (share, accuracy) in at_least(rows, none).items():
        lines.append(f"| {t:.1f} | {share:.2f} | {pct(accuracy)} |")
    return "\n".join(lines) + "\n"
