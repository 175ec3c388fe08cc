"""Does a head that learns the (actor, stance) pair find holders the factorized heads miss? (issue 11)

Every recipe factorizes a sentence's pair: p(actor, stance) = p(stance) x p(actor | a stance), one
actor distribution for all four stances. The labels say the actor depends on the stance (the
mediators hold 110 of the 176 mediations and 6 of Pakistan's), and session 27's
``actor_stance_prior`` fed that in from the label counts (+0.009 [-0.001, +0.018] holders, not
kept). This study learns it from the sentence: a **joint head**, one more logistic regression on
the stance-bearing training sentences whose classes are the 20 (actor, stance) pairs, over the
features one of the two heads reads (``--features actor``: n-grams, cues and holder features;
``stance``: those and the encoder's sentence vector). At decision time the stance is the model's
as before; the holder is decided from the actor head's p(actor | a stance) mixed with the joint
head's p(actor | the stance called) at ``--weight`` (0: the model as it is), then the parse's
holder where it resolves one, as the recipe applies it.

Each setting is scored on the rolling origin (experiments/rolling_origin.py: three blocks, each
fitted only on its past, pooled), paired by article against ``make demo``'s recipe refitted in
the same process with weight 0 (checked equal to its cached rolling-origin rows), by the champion
rule. One fit per block serves every weight and feature set.

    .venv/bin/python experiments/joint_head.py [--weight 0.5 --weight 1]

Writes experiments/joint-head/result.md and result.json, or under ``--out``.
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

from rolling_origin import ci, decide, judged, record, refit_rolling, score  # noqa: E402

from stance.errors import script_main  # noqa: E402
from stance.io import write_atomic  # noqa: E402
from stance.scheme import Scheme  # noqa: E402
from training.recipes import load_recipe, make_classifier  # noqa: E402

RECIPE = "configs/hybrid-mpnet-broker-mean-parse.yaml"
OUT = ROOT / "experiments" / "joint-head"
FEATURES = ("actor", "stance")


def joint_conditional(head, x, n_actors: int, n_stances: int) -> np.ndarray:
    """(rows, real stances, real actors): the joint head's p(actor | the stance), each stance's
    row normalized over the actors (uniform where the head gives the stance no mass)."""
    from training.models.base import full_proba

    p = full_proba(head, x, n_actors * n_stances).reshape(-1, n_actors, n_stances).transpose(0, 2, 1)
    total = p.sum(axis=2, keepdims=True)
    return np.where(total > 0, p / np.where(total > 0, total, 1), 1.0 / n_actors)


def fit_block(recipe, scheme, train, test, weights) -> dict[tuple[str, float], tuple[np.ndarray, np.ndarray]]:
    """One block: the recipe fitted on ``train``, then for each feature set and weight the test
    sentences' (actor ids, stance ids); weight 0 is the recipe itself."""
    from training.evaluate import contexts_of, dates_of
    from training.models.base import full_proba, labels_of

    model = make_classifier(recipe, scheme)
    texts, ctx = list(train["text"]), contexts_of(train)
    actors, stances = np.array(train["actor"]), np.array(train["stance"])
    model.fit(texts, actors, stances, groups=list(train["article"]), contexts=ctx, dates=dates_of(train))
    labels = labels_of(model)
    real_stances, n_actors = labels.real_stance_ids, len(labels.real_actors)
    x_train = dict(zip(FEATURES, model._inputs(texts, ctx)[:2], strict=True))
    t_texts, t_ctx = list(test["text"]), contexts_of(test)
    _, stance_p = model.predict_proba(t_texts, t_ctx)
    x_test = dict(zip(FEATURES, model._inputs(t_texts, t_ctx)[:2], strict=True))
    given = full_proba(model.actor_, x_test["actor"], n_actors)
    out = {("none", 0.0): decide(model, stance_p, given, t_texts, t_ctx, scheme)}
    bearing = (actors != labels.none_actor_id) & (stances != labels.none_stance_id)
    pair = actors[bearing] * len(real_stances) + np.array(
        [real_stances.index(int(s)) for s in stances[bearing]]
    )
    called = stance_p.argmax(axis=1)
    rows = np.flatnonzero(called != labels.none_stance_id)
    k = np.array([real_stances.index(int(s)) for s in called[rows]], dtype=int)  # the stance called
    for name in FEATURES:
        head = model._head().fit(x_train[name][bearing], pair)
        cond = joint_conditional(head, x_test[name], n_actors, len(real_stances))
        for w in weights:
            mixed = given.copy()
            mixed[rows] = (1 - w) * given[rows] + w * cond[rows, k]
            out[(name, w)] = decide(model, stance_p, mixed, t_texts, t_ctx, scheme)
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--weight", type=float, action="append", help="joint head's share [0.5, 1]")
    ap.add_argument("--out", type=Path, default=OUT)
    args = ap.parse_args()
    weights = args.weight or [0.5, 1.0]
    scheme = Scheme.load()
    recipe = load_recipe(ROOT / RECIPE)
    rows, meta, seconds, _ = refit_rolling(
        RECIPE, scheme, lambda train, test: (fit_block(recipe, scheme, train, test, weights), None)
    )
    reference = rows[("none", 0.0)]
    result = {"data_version": meta["data_version"], "recipe": RECIPE, "fit_seconds": seconds, "runs": []}
    result["reference"] = score(reference, scheme)
    for (name, w), mine in rows.items():
        if w == 0:
            continue
        figures, why = judged(mine, reference, scheme)
        setting = {"features": name, "weight": w}
        record("joint_head", setting, figures, why, meta["data_version"], RECIPE)
        run = setting | figures | {"against_reference": why}
        result["runs"].append(run)
    args.out.mkdir(parents=True, exist_ok=True)
    write_atomic(args.out / "result.json", json.dumps(result, indent=2) + "\n")
    write_atomic(args.out / "result.md", markdown(result))
    print(markdown(result))


def markdown(r: dict) -> str:
    ref = r["reference"]
    lines = [
        f"# A joint (actor, stance) head on the rolling origin (data {r['data_version']})\n",
        f"Reference: `{r['recipe']}` refitted here (weight 0): pooled stance macro-F1 "
        f"{ref['rolling_stance_macro_f1']:.3f}, actor accuracy end to end {ref['rolling_actor_accuracy_e2e']:.3f}, "
        f"actor precision end to end {ref['rolling_actor_precision_e2e']:.3f}. Each row mixes the joint head's "
        "p(actor | the stance called) into the actor head's at the weight; stances are the reference's. "
        f"Fits: {r['fit_seconds']} s a block. 90 % paired intervals by article.\n",
        "| joint head reads | weight | actor e2e − reference | older blocks: actor e2e | "
        "actor precision e2e − reference | champion rule |",
        "|---|---|---|---|---|---|",
    ]
    for run in r["runs"]:
        lines.append(
            f"| {run['features']} head's features | {run['weight']} | "
            f"{ci(run['diff_actor_accuracy_e2e'])} | {ci(run['older_diff_actor_accuracy_e2e'])} | "
            f"{ci(run['diff_actor_precision_e2e'])} | {run['against_reference']} |"
        )
    return "\n".join(lines) + "\n"


if __name__ == "__main__":
    script_main(main)
