"""Does a new outlet cost quality? The rolling origin split by whether a test article's outlet was seen.

Issue 11's held-out articles come from outlets and dates outside the training data. The rolling
origin (experiments/rolling_origin.py) already holds the dates out: each of its three blocks is
scored by a model fitted only on older articles. This study asks the outlet's half of the
question on the same predictions, with no new fit: each test article is **seen** when an article
of its block's training set came from the same outlet (``articles.tsv``'s ``outlet``, compared
case- and space-blind), **new** when none did, and **unknown** when it has no outlet (the rule is
``training.novelty``'s, which ``stance train`` logs as ``rolling_new_outlet_*``). Each group
gets the rolling origin's three figures with 90 % bootstrap intervals by article, and new minus
seen its own interval (the two groups resampled apart: they hold different articles, so the
difference is unpaired and wider than the champion rule's).

The recipes' rolling-origin predictions are read from the cache that ``rolling_origin.py`` fills
(same key: recipe, gazetteer, fitting code); a recipe without them is named with the command that
makes them.

    .venv/bin/python experiments/outlet_novelty.py configs/hybrid-mpnet-broker-mean-parse.yaml configs/baseline.yaml

Writes experiments/outlet-novelty/result.md and result.json, or under ``--out``.
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
sys.path.insert(0, str(ROOT / "experiments"))
os.environ.setdefault("HF_HUB_OFFLINE", "1")

from rolling_origin import BLOCKS, cached_rows, labeled_blocks  # noqa: E402

from stance.errors import StanceError, script_main  # noqa: E402
from stance.io import write_atomic  # noqa: E402
from stance.scheme import Scheme  # noqa: E402
from training import intervals, timesplit  # noqa: E402
from training.novelty import novelty, outlets  # noqa: E402
from training.recipes import load_recipe  # noqa: E402

OUT = ROOT / "experiments" / "outlet-novelty"
GROUPS = ("seen", "new", "unknown")
FIGURES = intervals.FIGURES


def group_figures(rows: list[dict], scheme: Scheme) -> dict[str, float]:
    return {k: round(v, 4) for k, v in timesplit.row_figures("g", rows, scheme).items()}


def difference(new: list[dict], seen: list[dict], scheme: Scheme) -> dict[str, list[float]]:
    """Each figure of ``new`` minus that of ``seen``: (point, lo, hi), the two groups' articles
    resampled apart (different seeds), 90 % interval."""
    n, none = len(scheme.stance_labels), scheme.labels.none_stance_id
    counts = []
    for k, part in enumerate((new, seen)):
        confusion, holders = intervals.per_article(*timesplit.row_ids(part, scheme), n, none)
        w = intervals.draws(len(confusion), seed=intervals.SEED + k)
        point = intervals.figures_of(confusion.sum(0), holders.sum(0))
        boot = intervals.figures_of(np.einsum("ra,aij->rij", w, confusion), w @ holders)
        counts.append((point, boot))
    (p_new, b_new), (p_seen, b_seen) = counts
    out = {}
    for name in FIGURES:
        lo, hi = intervals.interval(b_new[name] - b_seen[name])
        out[name] = [round(float(p_new[name] - p_seen[name]), 4), round(lo, 4), round(hi, 4)]
    return out


def recipe_rows(path: str, scheme: Scheme, data_version: str, blocks: int) -> list[dict]:
    rows = cached_rows(path, load_recipe(ROOT / path), scheme, data_version, blocks)
    if not rows:
        raise StanceError(
            f"{path}: no rolling-origin predictions for this code and data; make them with "
            f".venv/bin/python experiments/rolling_origin.py {path}"
        )
    return rows


def study(recipes: list[str], scheme: Scheme, blocks: int = BLOCKS) -> dict:
    data, meta, cuts, _ = labeled_blocks(scheme, blocks)
    status = novelty(cuts, outlets())
    result = {
        "data_version": meta["data_version"],
        "blocks": [
            {"block": b, **{g: sum(1 for (k, _), s in status.items() if k == b and s == g) for g in GROUPS}}
            for b in range(1, blocks + 1)
        ],
        "runs": [],
    }
    for path in recipes:
        rows = recipe_rows(path, scheme, meta["data_version"], blocks)
        parts = {g: [r for r in rows if status[(r["block"], r["article"])] == g] for g in GROUPS}
        run = {"recipe": path, "all": group_figures(rows, scheme)}
        run |= {g: group_figures(part, scheme) for g, part in parts.items() if part}
        if parts["new"] and parts["seen"]:
            run["new_minus_seen"] = difference(parts["new"], parts["seen"], scheme)
        result["runs"].append(run)
    return result


def _cell(f: dict, name: str) -> str:
    if f"g_{name}" not in f:
        return ""
    return f"{f[f'g_{name}']:.3f} [{f[f'g_{name}_lo']:.3f}, {f[f'g_{name}_hi']:.3f}]"


def markdown(r: dict) -> str:
    lines = [
        f"# Seen and new outlets on the rolling origin (data {r['data_version']})\n",
        "Each rolling-origin test article is *seen* when its block's training articles include one "
        "from the same outlet, *new* when none does, *unknown* without an outlet. Same predictions "
        "as experiments/rolling_origin.py, no new fit; 90 % bootstrap intervals by article; new "
        "minus seen resamples the two groups apart (unpaired).\n",
        "| block | seen | new | unknown |",
        "|---|---|---|---|",
    ]
    lines += [f"| {b['block']} | {b['seen']} | {b['new']} | {b['unknown']} |" for b in r["blocks"]]
    lines += [
        "",
        "| recipe | group | articles | sentences | stance macro-F1 | actor accuracy end to end | actor precision end to end |",
        "|---|---|---|---|---|---|---|",
    ]
    for run in r["runs"]:
        for g in ("all", *GROUPS):
            f = run.get(g)
            if not f:
                continue
            cells = " | ".join(_cell(f, name) for name in FIGURES)
            lines.append(
                f"| {run['recipe']} | {g} | {int(f['g_articles'])} | {int(f['g_sentences'])} | {cells} |"
            )
        d = run.get("new_minus_seen")
        if d:
            cells = " | ".join(f"{v[0]:+.3f} [{v[1]:+.3f}, {v[2]:+.3f}]" for v in (d[n] for n in FIGURES))
            lines.append(f"| {run['recipe']} | new − seen | | | {cells} |")
    return "\n".join(lines) + "\n"


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument(
        "recipes", nargs="+", help="recipe YAML files with rolling-origin predictions in the cache"
    )
    ap.add_argument("--blocks", type=int, default=BLOCKS)
    ap.add_argument("--out", type=Path, default=OUT)
    args = ap.parse_args()
    result = study(args.recipes, Scheme.load(), args.blocks)
    args.out.mkdir(parents=True, exist_ok=True)
    write_atomic(args.out / "result.json", json.dumps(result, indent=2) + "\n")
    write_atomic(args.out / "result.md", markdown(result))
    print(markdown(result))


if __name__ == "__main__":
    script_main(main)
