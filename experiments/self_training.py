"""Does the model gain from reading the new coverage it is asked to score? (issue 11)

Coverage drifts: 103 of the rolling origin's 133 test articles come from an outlet no older article
came from, and each period brings its own names, places and phrasing. The heads only know the
n-grams and the phrasing of the articles they were fitted on. **Self-training** (pseudo-labelling)
lets a model adapt to a batch it scores without any label of it: fit on the labeled articles,
score the new batch, take the sentences it is most confident of as if they were labeled (its own
actor and stance), fit again on both, and score the batch again. Nothing of the batch's labels is
read; the model only sees the batch's text, which a batch scoring run (the coverage report) has.

A sentence is taken when its confidence reaches ``--threshold``: p(the stance called), times, for
a stance-bearing call, p(the actor called | a stance). The taken rows are read by every head
(n-grams, cues, encoder, attention head) at ``--weight``, the labeled rows at 1; the TF-IDF
vocabulary is fitted on both, so the new batch's words enter it.

Scored on the rolling origin (experiments/rolling_origin.py: three blocks, each fitted only on
its past; a block's test articles are the new batch), paired by article against ``make demo``'s
recipe fitted on the labeled articles alone, by the champion rule. The first fit of each block is
that reference, checked against the rolling-origin cache.

    .venv/bin/python experiments/self_training.py [--threshold 0.9 --threshold 0.7] [--weight 0.5 --weight 1]

Writes experiments/self-training/result.md and result.json, or under ``--out``.
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

from rolling_origin import (  # noqa: E402
    cached_rows,
    ci,
    compact,
    judged,
    labeled_blocks,
    record,
    refit_changed,
    score,
)

from stance.errors import script_main  # noqa: E402
from stance.io import write_atomic  # noqa: E402
from stance.scheme import Scheme  # noqa: E402
from training import timesplit  # noqa: E402
from training.recipes import load_recipe, make_classifier  # noqa: E402

RECIPE = "configs/hybrid-mpnet-broker-mean-parse.yaml"
OUT = ROOT / "experiments" / "self-training"


def confidence(row: dict, scheme: Scheme) -> float:
    """How sure the model is of its call on one prediction row (``timesplit.evaluate``'s, with
    both facets' probabilities): p(stance called), times p(actor called | a stance) when the call
    is stance-bearing."""
    actor, stance = row["predicted"]
    p = row["stance_p"][stance]
    if scheme.stance_labels.index(stance) == scheme.labels.none_stance_id:
        return p
    real = scheme.labels.real_actors
    bearing = sum(row["actor_p"][a] for a in real)
    return p * (row["actor_p"][actor] / bearing if bearing > 0 else 0.0)


def pseudo_labeled(test, rows: list[dict], scheme: Scheme, threshold: float):
    """The sentences of ``test`` whose call (``rows``, in the same order) is at least
    ``threshold`` sure, labeled with that call: actor, stance and pairs replaced, so no label of
    the batch is left in them."""
    taken = [i for i, r in enumerate(rows) if confidence(r, scheme) >= threshold]
    if not taken:
        return None
    assert all(rows[i]["sentence_id"] == test["sentence_id"][i] for i in taken)
    a_ids = [scheme.actor_labels.index(rows[i]["predicted"][0]) for i in taken]
    s_ids = [scheme.stance_labels.index(rows[i]["predicted"][1]) for i in taken]
    part = test.select(taken).remove_columns(["actor", "stance", "pairs", "resolved_by"])
    part = part.add_column("actor", a_ids).add_column("stance", s_ids)
    part = part.add_column("pairs", [[{"actor": a, "stance": s}] for a, s in zip(a_ids, s_ids, strict=True)])
    return part.add_column("resolved_by", ["model"] * len(taken))


def main() -> None:
    from datasets import DatasetDict, concatenate_datasets

    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument(
        "--threshold", type=float, action="append", help="the confidence a sentence needs (repeatable)"
    )
    ap.add_argument("--weight", type=float, action="append", help="the taken rows' weight (repeatable)")
    ap.add_argument("--out", type=Path, default=OUT)
    args = ap.parse_args()
    scheme = Scheme.load()
    data, meta, cuts, index = labeled_blocks(scheme)
    recipe = load_recipe(ROOT / RECIPE)

    def subset(names):
        return data.select(sorted(i for a in names for i in index[a]))

    # the reference, fitted here: self-training needs its probabilities, the cache keeps only its calls
    first, reference = [], []
    for b, (train, test) in enumerate(cuts, 1):
        _, got = timesplit.evaluate(
            make_classifier(recipe, scheme), DatasetDict(train=subset(train), test=subset(test)), scheme
        )
        first.append(got)
        reference += compact(got, b)
        print(f"reference: block {b} fitted", flush=True)
    cached = cached_rows(RECIPE, recipe, scheme, meta["data_version"], len(cuts))
    if cached:
        theirs = {r["sentence_id"]: r["predicted"] for r in cached}
        apart = sum(theirs.get(r["sentence_id"]) != r["predicted"] for r in reference)
        print(f"the reference against the cached rolling-origin rows: {apart} of {len(reference)} differ")
    result = {
        "data_version": meta["data_version"],
        "recipe": RECIPE,
        "reference": score(reference, scheme),
        "runs": [],
    }
    out_json = args.out / "result.json"
    if out_json.is_file():  # the runs already made, kept (a run is keyed by its threshold and weight)
        result["runs"] = json.loads(out_json.read_text())["runs"]
    for threshold, weight in [
        (t, w) for t in args.threshold or [0.9, 0.7] for w in args.weight or [0.5, 1.0]
    ]:
        result["runs"] = [x for x in result["runs"] if (x["threshold"], x["weight"]) != (threshold, weight)]
        counts, right, kinds = [], [], {}

        def prepare(part, threshold=threshold, weight=weight, counts=counts, right=right, kinds=kinds):
            b = len(counts)  # the blocks come in order
            test = subset(cuts[b][1])
            taken = pseudo_labeled(test, first[b], scheme, threshold)
            if taken is None:
                counts.append(0)
                return part, None, None
            ids = set(taken["sentence_id"])
            truth = {r["sentence_id"]: r["true"] for r in first[b]}
            calls = {r["sentence_id"]: r["predicted"] for r in first[b]}
            counts.append(len(ids))
            for i in ids:
                kinds[calls[i][1]] = kinds.get(calls[i][1], 0) + 1
            right.append(sum(truth[i] == calls[i] for i in ids))
            w = np.concatenate([np.ones(len(part)), np.full(len(taken), weight)])
            return concatenate_datasets([part, taken.cast(part.features)]), w, None

        rows = refit_changed(
            recipe, scheme, data, cuts, index, prepare, f"threshold {threshold} weight {weight}"
        )
        figures, why = judged(rows, reference, scheme)
        setting = {"threshold": threshold, "weight": weight}
        record("self_training", setting, figures, why, meta["data_version"], RECIPE)
        run = setting | {"taken": counts, "taken_right": right, "tested": [len(f) for f in first]}
        run["taken_by_stance"] = dict(sorted(kinds.items()))
        result["runs"].append(run | figures | {"champion_rule": why})
        args.out.mkdir(parents=True, exist_ok=True)
        write_atomic(args.out / "result.json", json.dumps(result, indent=2) + "\n")
        write_atomic(args.out / "result.md", markdown(result))
    print(markdown(result))


def markdown(r: dict) -> str:
    ref = r["reference"]

    lines = [
        f"# Self-training on the batch being scored (data {r['data_version']}, `{r['recipe']}`)",
        "",
        "Rolling origin, three blocks pooled; each block's test articles are the unlabeled batch. "
        "90 % intervals by article, paired against the recipe fitted on the labeled articles alone. "
        "'taken' counts the batch's sentences taken with the model's own labels, per block; 'right' how "
        "many of those calls the labels (never read in training) agree with.",
        "",
        "| threshold | weight | taken (right) per block | taken, by the stance called | pooled stance macro-F1 | pooled actor e2e | "
        "stance − reference | actor e2e − reference | older blocks: stance; actor | champion rule |",
        "|---|---|---|---|---|---|---|---|---|---|",
        f"| reference | | | | {ref['rolling_stance_macro_f1']:.3f} | {ref['rolling_actor_accuracy_e2e']:.3f} | | | | |",
    ]
    for x in sorted(r["runs"], key=lambda x: (-x["threshold"], x["weight"])):
        taken = ", ".join(f"{n} ({k})" for n, k in zip(x["taken"], x["taken_right"], strict=False))
        kinds = ", ".join(f"{s} {n}" for s, n in x.get("taken_by_stance", {}).items())
        lines.append(
            f"| {x['threshold']} | {x['weight']} | {taken} | {kinds} | {x['rolling_stance_macro_f1']:.3f} "
            f"| {x['rolling_actor_accuracy_e2e']:.3f} | {ci(x['diff_stance_macro_f1'])} | {ci(x['diff_actor_accuracy_e2e'])} "
            f"| {ci(x['older_diff_stance_macro_f1'])}; {ci(x['older_diff_actor_accuracy_e2e'])} | {x['champion_rule']} |"
        )
    return "\n".join(lines) + "\n"


if __name__ == "__main__":
    from training.models import encoding_cache

    with encoding_cache.enabled():  # the frozen encoder's pass, as the rolling-origin studies keep it
        script_main(main)
