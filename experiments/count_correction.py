"""Can the trust table correct the report's counts on newer coverage? (issue 11)

The coverage report counts, per (actor, stance) pair and month, the sentences the model calls
so (argmax) and the sum of its probabilities (expected). An analyst reads those as how often a
side took a stance. Both are biased where the model's calls of a pair are often wrong or often
missed: the mediators' mediation is right on 0.93 of its calls but found on half the labeled
ones, so its count runs at about half the labeled one. The trust table measures both rates per
pair on articles the model never saw, so a third reading is possible, the labeled count the
rates imply:

    adjusted = calls x (right / called) / (right / labeled) = calls x labeled / called

This study asks whether that reading is closer to the labeled counts than the raw ones on
coverage newer than the rates, as a new model's would be: on the rolling-origin rows the model's
training run logged, each newer block is counted with rates read on the blocks older than it
(block 1 with blocks 2 and 3, block 2 with block 3), per (pair, month) and per pair over the
block. The error of a reading is the sum over cells of |reading - labeled count| (every labeled
pair of a sentence counts, as in the trust table), as a share of the labeled total; the gain of
one reading over another is paired by article, with a 90 % interval resampling the test block's
articles and, independently, the older blocks' (for the rates). A pair with fewer than
``reliability.FEW`` calls or labels in the older blocks keeps its raw count. No model is fitted.

    .venv/bin/python experiments/count_correction.py [--model models:/stance-classifier@champion]

Writes experiments/count-correction/result.md and result.json, or under ``--out``.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
os.environ.setdefault("HF_HUB_OFFLINE", "1")

from stance.errors import script_main  # noqa: E402
from stance.io import write_atomic  # noqa: E402
from stance.scheme import Scheme  # noqa: E402
from training import intervals, reliability  # noqa: E402
from training.report_inputs import pair_probs  # noqa: E402

OUT = ROOT / "experiments" / "count-correction"
READINGS = ("calls", "expected", "adjusted")  # argmax count, probability sum, rate-corrected


def per_article(rows: list[dict], pairs, labeled_pairs, scheme: Scheme):
    """(articles, months, per article x pair: calls, labeled, right, expected)."""
    names, called, labeled, right = reliability.counts(rows, pairs, labeled_pairs)
    index, col = {a: i for i, a in enumerate(names)}, {p: k for k, p in enumerate(pairs)}
    expected = np.zeros_like(called)
    month = {}
    for r in rows:
        probs = pair_probs(r["actor_p"], r["stance_p"], scheme)
        for p, k in col.items():
            expected[index[r["article"]], k] += probs.get(p, 0.0)
        month[r["article"]] = (r.get("date") or "undated")[:7]
    return names, [month[a] for a in names], called, labeled, right, expected


def adjust(calls: np.ndarray, called_old, labeled_old, right_old) -> np.ndarray:
    """calls x labeled / called of the older blocks, per pair (the last axis); raw where the older
    blocks called or labeled the pair fewer than FEW times, or never called it right."""
    ok = (called_old >= reliability.FEW) & (labeled_old >= reliability.FEW) & (right_old > 0)
    with np.errstate(invalid="ignore", divide="ignore"):
        factor = np.where(ok, labeled_old / np.maximum(called_old, 1e-9), 1.0)
    return calls * factor


def errors(readings: dict[str, np.ndarray], truth: np.ndarray) -> dict[str, float]:
    """Each reading's sum of |reading - labeled| over its cells (the last two axes), per draw."""
    return {k: np.abs(v - truth).sum(axis=(-2, -1)) for k, v in readings.items()}


def one_test(rows: list[dict], test: int, pairs, labeled_pairs, scheme, resamples: int) -> dict:
    old_rows = [r for r in rows if r["block"] > test]
    new_rows = [r for r in rows if r["block"] == test]
    _, _, c_old, l_old, r_old, _ = per_article(old_rows, pairs, labeled_pairs, scheme)
    names, months, calls, labeled, _, expected = per_article(new_rows, pairs, labeled_pairs, scheme)
    periods = sorted(set(months))
    by_month = np.array([[m == p for p in periods] for m in months], dtype=float)  # articles x months

    def readings(w_new, w_old):
        """Cells (draws x months x pairs, and draws x 1 x pairs for the block) of each reading."""
        factor_args = (w_old @ c_old, w_old @ l_old, w_old @ r_old)  # draws x pairs
        out = {}
        for grain, mask in (("month", by_month), ("block", np.ones((len(names), 1)))):
            cell = lambda x, mask=mask: np.einsum("da,am,ap->dmp", w_new, mask, x)  # noqa: E731
            raw = cell(calls)
            out[grain] = (
                {
                    "calls": raw,
                    "expected": cell(expected),
                    "adjusted": adjust(raw, *(f[:, None] for f in factor_args)),
                },
                cell(labeled),
            )
        return out

    point = readings(np.ones((1, len(names))), np.ones((1, len(c_old))))
    boot = readings(
        intervals.draws(len(names), resamples, seed=intervals.SEED + 1),
        intervals.draws(len(c_old), resamples),
    )
    result: dict = {
        "test_block": test,
        "articles": len(names),
        "months": periods,
        "rate_blocks": sorted({r["block"] for r in old_rows}),
    }
    for grain in ("month", "block"):
        (est, truth), (b_est, b_truth) = point[grain], boot[grain]
        err, b_err = errors(est, truth), errors(b_est, b_truth)
        total = float(truth.sum())
        result[grain] = {
            "labeled": int(total),
            "cells": int(truth.shape[1] * truth.shape[2]),
            **{f"{k}_error": round(float(err[k][0]) / total, 3) for k in READINGS},
            **{f"{k}_bias": round(float((est[k] - truth).sum()) / total, 3) for k in READINGS},
        }
        for k in ("expected", "adjusted"):
            gain = (b_err[k] - b_err["calls"]) / b_truth.sum(axis=(-2, -1))
            result[grain][f"{k}_minus_calls"] = round(float(err[k][0] - err["calls"][0]) / total, 3)
            result[grain][f"{k}_minus_calls_interval"] = [round(v, 3) for v in intervals.interval(gain)]
    cells = point["block"]
    result["pairs"] = {
        f"{a}/{s}": {
            "labeled": int(cells[1][0, 0, k]),
            **{k2: round(float(cells[0][k2][0, 0, k]), 1) for k2 in READINGS},
        }
        for k, (a, s) in enumerate(pairs)
        if cells[1][0, 0, k] or cells[0]["calls"][0, 0, k]
    }
    return result


def study(model: str, resamples: int = intervals.RESAMPLES) -> dict:
    scheme = Scheme.load()
    header, rows, labeled = reliability.model_rows(model, scheme)
    blocks = sorted({r["block"] for r in rows})
    tests = [one_test(rows, b, scheme.pairs, labeled, scheme, resamples) for b in blocks[:-1]]
    return {"model": header["model"], "run_id": header["run_id"], "data_version": header["data_version"]} | {
        "tests": tests
    }


def markdown(r: dict) -> str:
    lines = [
        "# Can the trust table correct the report's counts on newer coverage?\n",
        f"Model {r['model']} (run `{r['run_id'][:8]}`, data version {r['data_version']}); its training "
        "run's rolling-origin rows. Each newer block is counted three ways: the model's calls (the "
        "report's argmax count), the sum of its probabilities (the report's expected count), and the "
        "calls corrected by the older blocks' rates per pair (calls x labeled / called). Error: the "
        "sum over cells of |reading - labeled count|, as a share of the labeled total; bias: the "
        "signed sum, the same way. Gains are paired by article, 90 % interval.\n",
        "| test block (rates from) | cells | labeled | error: calls / expected / adjusted | bias: calls / expected / adjusted | adjusted - calls | expected - calls |",
        "|---|---|---|---|---|---|---|",
    ]
    for t in r["tests"]:
        for grain in ("month", "block"):
            g = t[grain]
            where = f"{t['test_block']} ({', '.join(map(str, t['rate_blocks']))}), by {'pair and month' if grain == 'month' else 'pair'}"
            errs = " / ".join(f"{g[f'{k}_error']:.3f}" for k in READINGS)
            bias = " / ".join(f"{g[f'{k}_bias']:+.3f}" for k in READINGS)
            gains = [
                f"{g[f'{k}_minus_calls']:+.3f} [{g[f'{k}_minus_calls_interval'][0]:+.3f}, {g[f'{k}_minus_calls_interval'][1]:+.3f}]"
                for k in ("adjusted", "expected")
            ]
            lines.append(
                f"| {where} | {g['cells']} | {g['labeled']} | {errs} | {bias} | {gains[0]} | {gains[1]} |"
            )
    for t in r["tests"]:
        lines += [
            "",
            f"Block {t['test_block']} ({t['articles']} articles, {t['months'][0]} to {t['months'][-1]}), per pair over the block:\n",
            "| pair | labeled | calls | expected | adjusted |",
            "|---|---|---|---|---|",
        ]
        for pair, c in t["pairs"].items():
            lines.append(
                f"| {pair} | {c['labeled']} | {c['calls']:g} | {c['expected']:g} | {c['adjusted']:g} |"
            )
    return "\n".join(lines) + "\n"


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--model", default="models:/stance-classifier@champion", help="a model URI of this store")
    ap.add_argument("--out", type=Path, default=OUT)
    args = ap.parse_args()
    result = study(args.model)
    write_atomic(args.out / "result.json", json.dumps(result, indent=1) + "\n")
    text = markdown(result)
    write_atomic(args.out / "result.md", text)
    print(text)


if __name__ == "__main__":
    script_main(main)
