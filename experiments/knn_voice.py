"""Do the labels of a sentence's nearest training sentences add a stance or holder voice? (issue 11)

News coverage repeats itself: outlets report the same statement in near-identical words, days
apart ("Mujahid rejected the claims", "Zabihullah Mujahid dismissed Pakistan's allegations"). The
recipes' logistic heads read the encoder's vector through one linear boundary per class; a
**nearest-neighbour voice** reads it by similarity instead: each test sentence's ``--k`` most
similar training sentences (cosine over the same frozen all-mpnet-base-v2 vector the stance head
reads, last four layers' mean), their labels weighted by exp(similarity / ``--temperature``).

* **stance voice**: p_knn(stance) mixed into the model's p(stance) at ``--weight``;
* **holder voice**: over the stance-bearing neighbours only, p_knn(actor) mixed into the actor
  head's p(actor | a stance) at the same weights (the parse's holder then applied as the recipe
  applies it), stances the model's own.

Session 27 measured the stance voice once on cached probabilities, with a script it did not keep
(docs/quality-levers.md, session 27); this study is its committed, refitted form, with the holder
voice added.

Scored on the rolling origin (experiments/rolling_origin.py: three blocks, each fitted only on its
past, pooled), paired by article against ``make demo``'s recipe refitted in the same process
(weight 0, checked against its cached rolling-origin rows), by the champion rule. It also reports
how often a test sentence has a near twin among its block's training sentences (cosine ≥ 0.9) and
how often the twin's label is the sentence's own.

    .venv/bin/python experiments/knn_voice.py [--k 10] [--weight 0.2 --weight 0.35]

Writes experiments/knn-voice/result.md and result.json, or under ``--out``.
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
OUT = ROOT / "experiments" / "knn-voice"
TWIN = 0.9


def unit(x: np.ndarray) -> np.ndarray:
    return x / np.maximum(np.linalg.norm(x, axis=1, keepdims=True), 1e-12)


def knn_proba(sim: np.ndarray, labels: np.ndarray, n: int, k: int, temperature: float) -> np.ndarray:
    """(test rows, n): each row's k nearest columns' labels, weighted by exp(sim / temperature)."""
    k = min(k, sim.shape[1])
    top = np.argpartition(-sim, k - 1, axis=1)[:, :k]
    s = np.take_along_axis(sim, top, axis=1)
    w = np.exp((s - s.max(axis=1, keepdims=True)) / temperature)
    out = np.zeros((sim.shape[0], n))
    for j in range(k):
        np.add.at(out, (np.arange(sim.shape[0]), labels[top[:, j]]), w[:, j])
    return out / out.sum(axis=1, keepdims=True)


def fit_block(recipe, scheme, train, test, k, temperature, weights):
    from training.evaluate import contexts_of, dates_of
    from training.models.base import full_proba, labels_of

    model = make_classifier(recipe, scheme)
    texts, ctx = list(train["text"]), contexts_of(train)
    actors, stances = np.array(train["actor"]), np.array(train["stance"])
    model.fit(texts, actors, stances, groups=list(train["article"]), contexts=ctx, dates=dates_of(train))
    labels = labels_of(model)
    t_texts, t_ctx = list(test["text"]), contexts_of(test)
    _, stance_p = model.predict_proba(t_texts, t_ctx)
    actor_x = model.actor_rows(t_texts, t_ctx)
    given = full_proba(model.actor_, actor_x, len(labels.real_actors))
    v_train, v_test = unit(model._encode(texts)[0]), unit(model._encode(t_texts)[0])
    sim = v_test @ v_train.T
    n_stances = len(model.stance_labels)
    p_stance = knn_proba(sim, stances, n_stances, k, temperature)
    bearing = np.flatnonzero(actors != labels.none_actor_id)
    p_actor = knn_proba(sim[:, bearing], actors[bearing], len(labels.real_actors), k, temperature)
    best = sim.argmax(axis=1)
    t_stances = np.array(test["stance"])
    twins = {
        "test_rows": len(t_texts),
        "with_twin": int((sim.max(axis=1) >= TWIN).sum()),
        "twin_same_stance": int(((sim.max(axis=1) >= TWIN) & (stances[best] == t_stances)).sum()),
    }
    out = {("none", 0.0): decide(model, stance_p, given, t_texts, t_ctx, scheme)}
    for w in weights:
        mixed = (1 - w) * stance_p + w * p_stance
        out[("stance", w)] = decide(model, mixed, given, t_texts, t_ctx, scheme)
        out[("holder", w)] = decide(model, stance_p, (1 - w) * given + w * p_actor, t_texts, t_ctx, scheme)
    return out, twins


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--k", type=int, default=10)
    ap.add_argument("--temperature", type=float, default=0.05)
    ap.add_argument("--weight", type=float, action="append", help="the voice's share [0.2, 0.35, 0.5]")
    ap.add_argument("--out", type=Path, default=OUT)
    args = ap.parse_args()
    weights = args.weight or [0.2, 0.35, 0.5]
    scheme = Scheme.load()
    recipe = load_recipe(ROOT / RECIPE)
    rows, meta, seconds, twins = refit_rolling(
        RECIPE,
        scheme,
        lambda train, test: fit_block(recipe, scheme, train, test, args.k, args.temperature, weights),
    )
    reference, apart = rows[("none", 0.0)], meta.get("reference_apart")
    result = {
        "data_version": meta["data_version"],
        "recipe": RECIPE,
        "k": args.k,
        "temperature": args.temperature,
        "fit_seconds": seconds,
        "twins": twins,
        "reference_against_cache": apart,
        "runs": [],
    }
    result["reference"] = score(reference, scheme)
    for (voice, w), mine in rows.items():
        if w == 0:
            continue
        figures, why = judged(mine, reference, scheme)
        setting = {"voice": voice, "weight": w, "k": args.k, "temperature": args.temperature}
        record("knn_voice", setting, figures, why, meta["data_version"], RECIPE)
        run = {"voice": voice, "weight": w} | figures | {"against_reference": why}
        result["runs"].append(run)
    args.out.mkdir(parents=True, exist_ok=True)
    write_atomic(args.out / "result.json", json.dumps(result, indent=2) + "\n")
    write_atomic(args.out / "result.md", markdown(result))
    print(markdown(result))


def markdown(r: dict) -> str:
    ref = r["reference"]
    n = sum(t["test_rows"] for t in r["twins"])
    twin = sum(t["with_twin"] for t in r["twins"])
    same = sum(t["twin_same_stance"] for t in r["twins"])
    lines = [
        f"# A nearest-neighbour voice on the rolling origin (data {r['data_version']})\n",
        f"Reference: `{r['recipe']}` refitted here (weight 0; {r['reference_against_cache']} rows apart from "
        f"its cached rolling-origin rows): pooled stance macro-F1 {ref['rolling_stance_macro_f1']:.3f}, actor "
        f"accuracy end to end {ref['rolling_actor_accuracy_e2e']:.3f}, actor precision end to end "
        f"{ref['rolling_actor_precision_e2e']:.3f}. Neighbours: k = {r['k']}, weights exp(cosine / "
        f"{r['temperature']}), over the frozen mpnet vector. Fits: {r['fit_seconds']} s a block. 90 % "
        "paired intervals by article.\n",
        f"Near twins: {twin} of {n} test sentences have a training sentence of their block at cosine ≥ "
        f"{TWIN}; the nearest one's stance is theirs on {same} of them.\n",
        "| voice | weight | stance − reference | actor e2e − reference | older blocks: stance | "
        "actor precision e2e − reference | champion rule |",
        "|---|---|---|---|---|---|---|",
    ]
    for run in r["runs"]:
        lines.append(
            f"| {run['voice']} | {run['weight']} | {ci(run['diff_stance_macro_f1'])} | "
            f"{ci(run['diff_actor_accuracy_e2e'])} | {ci(run['older_diff_stance_macro_f1'])} | "
            f"{ci(run['diff_actor_precision_e2e'])} | {run['against_reference']} |"
        )
    return "\n".join(lines) + "\n"


if __name__ == "__main__":
    script_main(main)
