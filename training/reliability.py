"""How far to trust each cell of a coverage report: per (actor, stance) pair, on articles the
model never saw, how many of its calls of that pair were right, and how many of the labeled ones
it found.

A report's matrix counts sentences by the pair the model calls; an analyst quoting "Pakistan
accused Kabul in 231 sentences" needs to know how many of those calls hold. The answer comes from
the rows the model's own training run logged: the rolling origin's (``evaluation/
rolling_origin_predictions.jsonl``: three blocks of the newest labeled articles, each predicted by
a refit on older articles only), else the time split's. Per pair:

* **right** (precision): of the sentences called that pair, the share labeled with it;
* **found** (recall): of the sentences labeled with it, the share called so (one call a sentence,
  so a sentence's second pair is found only where the model calls that one).

Both with 90 % bootstrap intervals by article (``training.intervals``' resampling; where every
resample gives the same share, as when every call was wrong, the exact binomial interval over the
articles holding the calls, never a width of 0). A pair the model called fewer than ``FEW`` times
there gets its counts and no share: a few calls say little.
A sentence may hold two pairs ("Islamabad accuses the Taliban ..., which the Taliban deny"): the
logged rows carry only the primary one, so every pair a sentence is labeled with is read from the
annotation snapshot of the run's data version when this checkout has it, and a call of any of them
is right (24 of the demo recipe's 759 rolling-origin calls are a second pair). Without the snapshot,
only the primary pair counts, and the shares are floors.
"""

from __future__ import annotations

import numpy as np

from training import intervals

FEW = 10  # fewer calls (or labels) than this: counts, no share
NEVER = 5  # "never right" from this many calls, all wrong: a coin's chance of that is 1 in 32
CHECK_EACH = "check each sentence before quoting it"  # after "never right" / "rarely right"
ROLLING = "the rolling origin of its training run"  # where the rows come from, in words
TIME_SPLIT = "the time split of its training run"
ARTIFACT, FILE = "trust", "trust.json"  # the table kept in a logged model, beside its classifier
MARKDOWN = "evaluation/trust.md"  # the table on the training run's page


def pair_reliability(
    rows: list[dict],
    pairs: list[tuple[str, str]],
    labeled_pairs: dict[str, list[tuple[str, str]]] | None = None,
    resamples: int = intervals.RESAMPLES,
) -> dict:
    """``"actor/stance"`` -> {called, labeled, right, articles, precision [lo, hi], recall [lo, hi]}
    for each pair, from prediction rows (``article``, ``sentence_id``, ``true`` and ``predicted``
    (actor, stance)); ``labeled_pairs``: every pair each sentence is labeled with, where known."""
    names, called, labeled, right = counts(rows, pairs, labeled_pairs)
    col = {p: k for k, p in enumerate(pairs)}
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
                cell["precision_interval"] = _interval(boot, n_right / n_called, called[:, k])
            if n_labeled >= FEW:
                boot = (w @ right[:, k]) / (w @ labeled[:, k])
                cell["recall"] = round(float(n_right / n_labeled), 3)
                cell["recall_interval"] = _interval(boot, n_right / n_labeled, labeled[:, k])
        out[f"{p[0]}/{p[1]}"] = cell
    return out


def _interval(boot: np.ndarray, share: float, per_article: np.ndarray) -> list[float]:
    """The bootstrap's interval of a share; where every resample gave the same share (every call
    wrong, every call right, or all of them in one article) that says nothing of how far the share
    could move, and the exact binomial interval over the articles holding the calls stands in
    (:func:`training.intervals.exact`): 0 of 16 calls in 8 articles reads [0.00, 0.31], not [0.00, 0.00]."""
    lo, hi = intervals.interval(boot)
    if lo == hi:
        n = int((per_article > 0).sum())
        lo, hi = intervals.exact(share * n, n)
    return [round(lo, 3), round(hi, 3)]


def counts(rows: list[dict], pairs: list[tuple[str, str]], labeled_pairs: dict | None):
    """(articles, then per article x pair: calls, labeled sentences, right calls)."""
    labeled_pairs = labeled_pairs or {}
    names = sorted({r["article"] for r in rows})
    index = {a: i for i, a in enumerate(names)}
    col = {p: k for k, p in enumerate(pairs)}
    called, labeled, right = (np.zeros((len(names), len(pairs))) for _ in range(3))
    for r in rows:
        i, call = index[r["article"]], tuple(r["predicted"][:2])
        truth = set(labeled_pairs.get(r.get("sentence_id"), ())) | {tuple(r["true"][:2])}
        if call in col:
            called[i, col[call]] += 1
            right[i, col[call]] += call in truth
        for pair in truth & col.keys():
            labeled[i, col[pair]] += 1
    return names, called, labeled, right


def transfer(
    rows: list[dict],
    pairs: list[tuple[str, str]],
    labeled_pairs: dict[str, list[tuple[str, str]]] | None = None,
    resamples: int = intervals.RESAMPLES,
) -> dict:
    """Does a pair's "right" read on older articles hold on newer ones? Rolling-origin rows carry
    their ``block`` (1 the newest): per block, its calls and the share right; then the newest
    block's right calls against what the older blocks' rate for each pair expects of its calls,
    as a gap per call (negative: the older rates overstate the newest coverage), with a 90 %
    interval resampling the articles of both sides (independently: they are different articles).
    A pair the older blocks never called is expected at their rate over all pairs."""
    blocks = sorted({r["block"] for r in rows}, reverse=True)  # oldest first
    if len(blocks) < 2:
        raise ValueError("the rows hold one block: nothing older to read the rates on")
    out: dict = {"blocks": []}
    for b in blocks:
        mine = [r for r in rows if r["block"] == b]
        _, called, _, right = counts(mine, pairs, labeled_pairs)
        out["blocks"].append(
            {
                "block": b,
                **_span(mine),
                "calls": int(called.sum()),
                "right": int(right.sum()),
                "share": round(float(right.sum() / called.sum()), 3) if called.sum() else None,
            }
        )
    newest = blocks[-1]
    _, c_old, _, r_old = counts([r for r in rows if r["block"] != newest], pairs, labeled_pairs)
    _, c_new, _, r_new = counts([r for r in rows if r["block"] == newest], pairs, labeled_pairs)

    calls, got = c_new.sum(), r_new.sum()
    expected = float(_rates(c_old.sum(0)[None], r_old.sum(0)[None])[0] @ c_new.sum(0))
    w_old, w_new = intervals.draws(len(c_old), resamples), intervals.draws(len(c_new), resamples)
    boot_rate = _rates(w_old @ c_old, w_old @ r_old)  # draws x pairs
    nc, nr = w_new @ c_new, w_new @ r_new
    gap = (nr.sum(1) - (boot_rate * nc).sum(1)) / nc.sum(1)
    out["newest"] = {
        "calls": int(calls),
        "right": int(got),
        "expected": round(expected, 1),
        "gap": round(float((got - expected) / calls), 3) if calls else None,
        "gap_interval": [round(v, 3) for v in intervals.interval(gap)] if calls else None,
    }
    out["pairs"] = {
        f"{a}/{s}": {
            "older_called": int(c_old[:, k].sum()),
            "older_right": int(r_old[:, k].sum()),
            "newest_called": int(c_new[:, k].sum()),
            "newest_right": int(r_new[:, k].sum()),
        }
        for k, (a, s) in enumerate(pairs)
    }
    return out


def _rates(called: np.ndarray, right: np.ndarray) -> np.ndarray:
    """Right of called per pair (rows: draws, columns: pairs); a pair never called in a row
    gets that row's rate over all pairs."""
    overall = right.sum(1, keepdims=True) / np.maximum(called.sum(1, keepdims=True), 1e-9)
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(called > 0, right / called, overall)


def summary(
    rows: list[dict],
    where: str,
    pairs: list[tuple[str, str]],
    labeled_pairs: dict[str, list[tuple[str, str]]] | None,
) -> dict:
    """The trust table as the report, predict and the training run keep it: where the rows come
    from, how many, whether every labeled pair counted, and the cells (:func:`pair_reliability`).

    Rolling-origin rows (they carry ``block``, 1 the newest) also give each cell its ``newest``
    counts, {called, right} on the newest block alone, and the table its ``newest`` block's
    articles and dates: the shares pooled over the blocks ran high there
    (experiments/trust_transfer.py), so a reader sees the recent counts beside them."""
    out = {
        "where": where,
        "articles": len({r["article"] for r in rows}),
        "sentences": len(rows),
        "all_pairs": labeled_pairs is not None,
        "labels": "every pair a sentence is labeled with" if labeled_pairs else "the primary pair only",
        "cells": pair_reliability(rows, pairs, labeled_pairs),
    }
    blocks = {r["block"] for r in rows if r.get("block") is not None}
    if len(blocks) > 1:
        recent = [r for r in rows if r.get("block") == min(blocks)]
        _, called, _, right = counts(recent, pairs, labeled_pairs)
        for k, (a, s) in enumerate(pairs):
            out["cells"][f"{a}/{s}"]["newest"] = {
                "called": int(called[:, k].sum()),
                "right": int(right[:, k].sum()),
            }
        out["newest"] = _span(recent)
    return out


def _span(rows: list[dict]) -> dict:
    """{articles, first, last}: how many articles the rows come from, and their first and last date."""
    dates = sorted(r["date"] for r in rows if r.get("date"))
    return {
        "articles": len({r["article"] for r in rows}),
        "first": dates[0] if dates else None,
        "last": dates[-1] if dates else None,
    }


def call_note(cell: dict | None) -> str:
    """One cell's "right" in words: "right 0.63 [0.57, 0.69] of 180 calls", "right 3 of 7 calls
    (too few for a share)", "never called"."""
    if not cell or not cell["called"]:
        return "never called"
    if "precision" not in cell:
        text = f"right {cell['right']} of {_calls(cell['called'])} (too few for a share)"
    else:
        lo, hi = cell["precision_interval"]
        text = f"right {cell['precision']:.2f} [{lo:.2f}, {hi:.2f}] of {_calls(cell['called'])}"
    if newest := cell.get("newest"):
        if newest["called"]:
            text += f"; on the newest articles alone {newest['right']} of {newest['called']}"
        else:
            text += "; never called on the newest articles"
    return text


def _calls(n: int) -> str:
    return f"{n} call" if n == 1 else f"{n} calls"


def pair_calls(trust: dict, actor: str, stance: str) -> dict:
    """A pair's calls on articles the model never saw, as predict's evidence and the report's carry
    them: called, right, the share with its interval where there were enough calls (:data:`FEW`),
    and the newest block's counts where measured."""
    cell = trust["cells"].get(f"{actor}/{stance}") or {"called": 0, "right": 0}
    return {k: cell[k] for k in ("called", "right", "precision", "precision_interval", "newest") if k in cell}


def seldom_right(cell: dict) -> str | None:
    """ "never right" where the model called the pair there and no call was right; "rarely right"
    where under half its calls were, at the top of the share's interval too; else None. A reader
    of a pair's most confident sentences takes them as examples of the pair; these say plainly
    when they are more likely the model's mistakes (the mediation Pakistan was called with: 0 of 16).
    Under :data:`NEVER` calls, all wrong, the counts beside it speak alone (0 of 1 says little)."""
    if not cell.get("called"):
        return None
    if not cell["right"]:
        return "never right" if cell["called"] >= NEVER else None
    if "precision_interval" in cell and cell["precision_interval"][1] < 0.5:
        return "rarely right"
    return None


def markdown(trust: dict) -> str:
    """The trust table for a training run's artifacts: one row per pair."""
    lines = [
        "# How far to trust each pair the model calls\n",
        f"On {trust['articles']} articles it never saw ({trust['where']}; {trust['sentences']} "
        f"sentences; {trust['labels']} counts as right). right: of its calls of the pair, the share "
        f"labeled with it; found: of the sentences labeled with it, the share called so; 90 % "
        f"intervals by article; under {FEW} calls or labels, counts only.\n",
        "| pair | calls | right | labeled | found | newest block: right of called |",
        "|---|---|---|---|---|---|",
    ]
    for pair, c in trust["cells"].items():
        right = _share(c, "precision", c["right"], c["called"])
        found = _share(c, "recall", c["right"], c["labeled"])
        newest = _newest(c)
        lines.append(f"| {pair} | {c['called']} | {right} | {c['labeled']} | {found} | {newest} |")
    return "\n".join(lines) + "\n"


def _newest(cell: dict) -> str:
    """The newest block's right of called; "never called" for a pair called only on older articles
    (it read "0 of 0", a share of nothing, where the report and predict say so); blank for a pair never
    called at all, whose calls column already says 0."""
    if "newest" not in cell or not cell["called"]:
        return ""
    newest = cell["newest"]
    return f"{newest['right']} of {newest['called']}" if newest["called"] else "never called"


def _share(cell: dict, key: str, num: int, den: int) -> str:
    if key in cell:
        lo, hi = cell[f"{key}_interval"]
        return f"{cell[key]:.2f} [{lo:.2f}, {hi:.2f}]"
    return f"{num} of {den}" if den else ""


def logged_rows(run_id: str) -> tuple[list[dict], str] | None:
    """(the prediction rows a training run logged on articles it never saw, where they come from),
    the rolling origin's before the time split's; None when the run logged neither."""
    import json

    from stance.io import jsonl_lines
    from training import timesplit
    from training.champion import predictions_jsonl

    for artifact, where in ((timesplit.ROLLING, ROLLING), (timesplit.PREDICTIONS, TIME_SPLIT)):
        text = predictions_jsonl(run_id, artifact)
        if text:
            return [json.loads(line) for line in jsonl_lines(text) if line.strip()], where
    return None


def snapshot_pairs(data_version: str) -> dict[str, list[tuple[str, str]]] | None:
    """Every (actor, stance) pair each sentence of a data version's annotation snapshot is labeled
    with, primary first; None when this checkout does not hold that snapshot."""
    from stance import paths
    from stance.io import read_jsonl

    path = paths.snapshots() / f"annotations-{data_version}.jsonl"
    if not path.is_file():
        return None
    return {
        r["sentence_id"]: [(p["actor"], p["stance"]) for p in r.get("pairs") or []]
        for _, r in read_jsonl(path)
    }


def model_rows(model: str, scheme) -> tuple[dict, list[dict], dict]:
    """(the model's report header, its training run's rolling-origin rows, every labeled pair of
    each sentence from the snapshot of its data version) for a study of those rows; one error
    line where the model has no run, the run no rolling origin, or this checkout no snapshot."""
    from stance.errors import StanceError
    from training.report_render import model_header

    header = model_header(model, scheme)
    if "run_id" not in header:
        raise StanceError(f"{model}: no training run found for it in this store")
    got = logged_rows(header["run_id"])
    if got is None or got[1] != ROLLING:
        raise StanceError(f"{model}: its training run logged no rolling-origin predictions")
    labeled = snapshot_pairs(header["data_version"])
    if labeled is None:
        raise StanceError(
            f"no annotation snapshot of data version {header['data_version']} in this checkout "
            "(labeling/snapshots/): without it a sentence's second labeled pair would be miscounted"
        )
    return header, got[0], labeled
