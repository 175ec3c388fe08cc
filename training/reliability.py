"""How far to trust each cell of a coverage report: per (actor, stance) pair, on articles the
model never saw, how many of its calls of that pair were right, and how many of the labeled ones
it found.

A report's matrix counts sentences by the pair the model calls; an analyst quoting "Pakistan
accused Kabul in 231 sentences" needs to know how many of those calls hold. The answer comes from
the rows the model's own training run logged: the rolling origin's (``evaluation/
rolling_origin_predictions.jsonl``: three blocks of the newest labeled articles, each predicted by
a refit on older articles only), else the time split's. Per pair:

* **right** (precision): of the sentences called that pair, the share whose labeled primary pair it is;
* **found** (recall): of the sentences labeled with it, the share called so.

Both with 90 % bootstrap intervals by article (``training.intervals``' resampling). A pair the
model called fewer than ``FEW`` times there gets its counts and no share: a few calls say little.
Only the primary pair is labeled in those rows, so a call of a sentence's second pair counts as
wrong; the shares are floors.
"""

from __future__ import annotations

import numpy as np

from training import intervals

FEW = 10  # fewer calls (or labels) than this: counts, no share


def pair_reliability(
    rows: list[dict], pairs: list[tuple[str, str]], resamples: int = intervals.RESAMPLES
) -> dict:
    """``"actor/stance"`` -> {called, labeled, right, articles, precision [lo, hi], recall [lo, hi]}
    for each pair, from prediction rows (``article``, ``true`` and ``predicted`` (actor, stance))."""
    names = sorted({r["article"] for r in rows})
    index = {a: i for i, a in enumerate(names)}
    col = {p: k for k, p in enumerate(pairs)}
    called, labeled, right = (np.zeros((len(names), len(pairs))) for _ in range(3))
    for r in rows:
        i, truth, call = index[r["article"]], tuple(r["true"][:2]), tuple(r["predicted"][:2])
        if call in col:
            called[i, col[call]] += 1
            right[i, col[call]] += call == truth
        if truth in col:
            labeled[i, col[truth]] += 1
    w = intervals.draws(len(names), resamples) if names else np.zeros((0, 0))
    out = {}
    for p, k in col.items():
        n_called, n_labeled, n_right = called[:, k].sum(), labeled[:, k].sum(), right[:, k].sum()
        cell = {
            "called": int(n_called),
            "labeled": int(n_labeled),
            "right": int(n_right),
            "articles": len(names),
        }
        with np.errstate(invalid="ignore", divide="ignore"):
            if n_called >= FEW:
                boot = (w @ right[:, k]) / (w @ called[:, k])
                cell["precision"] = round(float(n_right / n_called), 3)
                cell["precision_interval"] = [round(v, 3) for v in intervals.interval(boot)]
            if n_labeled >= FEW:
                boot = (w @ right[:, k]) / (w @ labeled[:, k])
                cell["recall"] = round(float(n_right / n_labeled), 3)
                cell["recall_interval"] = [round(v, 3) for v in intervals.interval(boot)]
        out[f"{p[0]}/{p[1]}"] = cell
    return out


def logged_rows(run_id: str) -> tuple[list[dict], str] | None:
    """(the prediction rows a training run logged on articles it never saw, where they come from),
    the rolling origin's before the time split's; None when the run logged neither."""
    import json

    from training import timesplit
    from training.champion import predictions_jsonl

    for artifact, where in (
        (timesplit.ROLLING, "the rolling origin of its training run"),
        (timesplit.PREDICTIONS, "the time split of its training run"),
    ):
        text = predictions_jsonl(run_id, artifact)
        if text:
            return [json.loads(line) for line in text.splitlines() if line.strip()], where
    return None
