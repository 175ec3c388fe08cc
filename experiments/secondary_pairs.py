"""Do a sentence's other pairs help the model learn its primary one? (issue 11)

The guide gives a sentence every (actor, stance) pair it carries, primary first, and the models
learn the primary pair only: 184 of the 2,466 labeled sentences carry a second pair ("the
Taliban refused, blaming Pakistan": denial first, accusation second), and that second pair is
thrown away in training. This study keeps it: each further pair becomes one more training row,
the same text and context with that pair's actor and stance, at ``--weight`` (the primary rows
at 1). Both heads read the extra rows (the stance head all of them, the actor head the
stance-bearing ones); the attention head and the ``fit`` options see them too. Decisions and
scoring stay on the primary pair. With ``--heads actor`` only the actor head reads them (the
model fitted as before, then its actor head again on the added rows too).

The labels carry one more thing no recipe read: whether the two annotators agreed. With
``--heads disputed`` no row is added; the sentences they labeled apart, whose label a reviewer
decided (105 of 2,466), are weighted ``--weight`` in training, the rest 1: a label a careful
reader could take two ways may teach a head less than a clear one.

Each weight is scored on the rolling origin (experiments/rolling_origin.py: three blocks, each
fitted only on its past, pooled), paired by article against ``make demo``'s recipe fitted on
the primary pairs alone, by the champion rule. The reference's predictions are read from the
rolling-origin cache when they are there (the same key: recipe, gazetteer, fitting code) and
fitted otherwise.

    .venv/bin/python experiments/secondary_pairs.py [--heads both|actor|disputed] [--weight 0.5 --weight 1]

Writes experiments/secondary-pairs/result.md and result.json, or under ``--out``; each run's
prediction rows go to the git-ignored ``.stance/cache/secondary-pairs/<data version>/``.
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

from rolling_origin import cached_rows, ci, judged, labeled_blocks, record, refit_changed, score  # noqa: E402

from stance.errors import script_main  # noqa: E402
from stance.io import dumps_jsonl, write_atomic  # noqa: E402
from stance.scheme import Scheme  # noqa: E402
from training.recipes import load_recipe  # noqa: E402

RECIPE = "configs/hybrid-mpnet-broker-mean-parse.yaml"
OUT = ROOT / "experiments" / "secondary-pairs"


def further_rows(train):
    """One row per further pair of a sentence in ``train``: (row index, actor id, stance id)."""
    return [(i, p["actor"], p["stance"]) for i, pairs in enumerate(train["pairs"]) for p in pairs[1:]]


def with_secondary(train, weight: float):
    """``train`` with one more row per further pair of a sentence (its actor and stance in place
    of the primary's; pairs[0] is the primary pair, the row's own labels), and the rows' weights:
    1 for the sentences, ``weight`` for the added rows."""
    from datasets import concatenate_datasets

    extra = further_rows(train)
    if not extra:
        return train, np.ones(len(train))
    added = train.select([i for i, _, _ in extra]).remove_columns(["actor", "stance"])
    added = added.add_column("actor", [a for _, a, _ in extra])
    added = added.add_column("stance", [s for _, _, s in extra])
    out = concatenate_datasets([train, added.cast(train.features)])
    return out, np.concatenate([np.ones(len(train)), np.full(len(extra), weight)])


def refit_actor_head(model, train, weight: float) -> None:
    """The fitted ``model``'s actor head fitted again on its stance-bearing sentences plus one row
    per further pair (at ``weight``): its n-grams, cues and holder features as the model reads
    them, so the stance heads and the TF-IDF vocabulary stay as the sentences alone made them."""
    from training.evaluate import contexts_of
    from training.models.base import labels_of

    extra = further_rows(train)
    texts, contexts = list(train["text"]), contexts_of(train)
    actor_x = model.actor_rows(texts, contexts)
    rows = [*range(len(texts)), *(i for i, _, _ in extra)]
    actors = np.array([*train["actor"], *(a for _, a, _ in extra)])
    w = np.concatenate([np.ones(len(texts)), np.full(len(extra), weight)])
    bearing = actors != labels_of(model).none_actor_id
    model.actor_ = model._head().fit(actor_x[rows][bearing], actors[bearing], sample_weight=w[bearing])


def fit_blocks(recipe, scheme, data, cuts, index, weight, heads="both") -> tuple[list[dict], int]:
    """Every block's prediction rows, each fitted on its past (with the further pairs at
    ``weight``, or the primary pairs alone for None; ``heads`` "actor": the actor head alone
    reads them, :func:`refit_actor_head`; "disputed": no rows added, the sentences the two
    annotators labeled apart, which a reviewer decided, at ``weight``); and how many rows were
    added in block 1."""
    added = []

    def prepare(part):
        added.append(len(further_rows(part)))
        if weight is None:
            return part, None, None
        if heads == "disputed":
            return part, np.where(np.array(part["resolved_by"]) == "agreement", 1.0, weight), None
        if heads == "both":
            return *with_secondary(part, weight), None
        return part, None, lambda model: refit_actor_head(model, part, weight)

    rows = refit_changed(recipe, scheme, data, cuts, index, prepare, f"{heads} {weight}")
    return rows, added[0]


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--weight", type=float, action="append", help="the added rows' weight (repeatable)")
    ap.add_argument(
        "--heads",
        choices=["both", "actor", "disputed"],
        action="append",
        help="which heads read the added rows; disputed: no rows added, the reviewed sentences at --weight (repeatable)",
    )
    ap.add_argument("--out", type=Path, default=OUT)
    args = ap.parse_args()
    weights = args.weight or [0.5, 1.0]
    scheme = Scheme.load()
    data, meta, cuts, index = labeled_blocks(scheme)
    recipe = load_recipe(ROOT / RECIPE)
    reference = cached_rows(RECIPE, recipe, scheme, meta["data_version"], len(cuts))
    if not reference:
        reference, _ = fit_blocks(recipe, scheme, data, cuts, index, None)
    multi = sum(len(p) > 1 for p in data["pairs"])
    result = {
        "data_version": meta["data_version"],
        "recipe": RECIPE,
        "sentences_with_further_pairs": multi,
        "further_pairs": sum(max(len(p) - 1, 0) for p in data["pairs"]),
        "disputed_sentences": sum(x != "agreement" for x in data["resolved_by"]),
        "reference": score(reference, scheme),
        "runs": [],
    }
    out_json = args.out / "result.json"
    if out_json.is_file():  # the runs already made, kept (a run is keyed by its heads and weight)
        result["runs"] = json.loads(out_json.read_text())["runs"]
    for heads, weight in [(h, w) for h in args.heads or ["both"] for w in weights]:
        result["runs"] = [x for x in result["runs"] if (x["heads"], x["weight"]) != (heads, weight)]
        rows, added = fit_blocks(recipe, scheme, data, cuts, index, weight, heads)
        figures, why = judged(rows, reference, scheme)
        record(
            "secondary_pairs", {"heads": heads, "weight": weight}, figures, why, meta["data_version"], RECIPE
        )
        # the rows, for a closer look, in the git-ignored cache (not committed)
        cache = ROOT / ".stance" / "cache" / "secondary-pairs" / meta["data_version"]
        cache.mkdir(parents=True, exist_ok=True)
        write_atomic(cache / f"{heads}-{weight}.jsonl", dumps_jsonl(rows))
        run = {"heads": heads, "weight": weight, "added_rows_block1": added}
        run |= figures | {"champion_rule": why}
        result["runs"].append(run)
        args.out.mkdir(parents=True, exist_ok=True)
        write_atomic(args.out / "result.json", json.dumps(result, indent=2) + "\n")
        write_atomic(args.out / "result.md", markdown(result))
    print(markdown(result))


MODES = {
    "both": "further pairs added, both heads",
    "actor": "further pairs added, the actor head",
    "disputed": "the reviewed sentences weighted",
}


def markdown(r: dict) -> str:
    ref = r["reference"]

    lines = [
        f"# Further pairs as training rows; disputed labels weighted (data {r['data_version']}, `{r['recipe']}`)",
        "",
        f"{r['sentences_with_further_pairs']} labeled sentences carry more than one pair "
        f"({r['further_pairs']} further pairs); {r.get('disputed_sentences', '?')} were labeled apart by the two "
        "annotators and decided by a reviewer. Rolling origin, three blocks pooled; 90 % intervals by article, "
        "paired against the recipe fitted on the primary pairs alone, every sentence at weight 1.",
        "",
        "| rows | weight | pooled stance macro-F1 | pooled actor e2e | stance − reference | "
        "actor e2e − reference | older blocks: stance; actor | actor precision − reference | champion rule |",
        "|---|---|---|---|---|---|---|---|---|",
        f"| none added, every sentence at 1 (reference) | | {ref['rolling_stance_macro_f1']:.3f} | {ref['rolling_actor_accuracy_e2e']:.3f} "
        "| | | | | |",
    ]
    for x in sorted(r["runs"], key=lambda x: (x["heads"], x["weight"])):
        lines.append(
            f"| {MODES[x['heads']]} | {x['weight']} | {x['rolling_stance_macro_f1']:.3f} | {x['rolling_actor_accuracy_e2e']:.3f} "
            f"| {ci(x['diff_stance_macro_f1'])} | {ci(x['diff_actor_accuracy_e2e'])} "
            f"| {ci(x['older_diff_stance_macro_f1'])}; {ci(x['older_diff_actor_accuracy_e2e'])} "
            f"| {ci(x['diff_actor_precision_e2e'])} | {x['champion_rule']} |"
        )
    return "\n".join(lines) + "\n"


if __name__ == "__main__":
    from training.models import encoding_cache

    with encoding_cache.enabled():  # the frozen encoder's pass, as the rolling-origin studies keep it
        script_main(main)
