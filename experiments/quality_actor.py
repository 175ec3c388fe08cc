"""Levers for the actor head on the coverage labels, with the champion's stance head fixed (issue 11).

Who holds a stance is the weaker half of the answer (time-split actor accuracy end to end
0.662 for ``hybrid-mpnet-last4``); the actor head's settings were last studied on the
408-sentence data. Here the champion's stance decisions are fixed (its own head, argmax)
and only the actor head varies, so a row's actor figures measure the actor head alone:

* **C**: the head's inverse regularisation (1, 16; the champion's is 4);
* **holder_weight**: the scale of the holder features (1, 4; the champion's is 2);
* **embeddings**: the champion's frozen mpnet sentence vector (last four layers) beside the
  TF-IDF rows, cues and holder features (weights 0.75 and 1.5), which the actor head does
  not read today;
* **no TF-IDF**: the cues, holder features and embedding alone (n-grams of country names
  may teach "names Pakistan" rather than "Pakistan holds it");
* **reported**: the holder features' ``reported`` block, the actor of the subject of a stance
  verb that a speech verb reports ("sources said Pakistan insisted ...": the guide's ruling);
* **the stance** (session 12): who holds a stance depends on which stance it is (mediation is
  mostly the mediators', denial mostly the Afghan Taliban's), so the stance's one-hot joins the
  actor head's input (the labeled stance in training, the stance head's decision in test), alone
  or with the cues and holder features repeated per stance (cue x stance interactions).

Same features, splits and intervals as experiments/quality.py (grouped 5-fold CV over the
172 training articles, the 44 newest as the time split, 90 % paired bootstrap by article
against the champion's actor head). The pick is by grouped CV over the training articles
(pooled out-of-fold actor accuracy end to end), never by the test figure.

    .venv/bin/python experiments/quality_actor.py

Writes experiments/quality-actor/result.json and result.md.
"""

from __future__ import annotations

import json
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from experiments import quality_levers as lv  # noqa: E402
from experiments.quality import LAST4, _write  # noqa: E402
from training import intervals  # noqa: E402

OUT = ROOT / "experiments" / "quality-actor"
RECIPE = ROOT / "configs" / "hybrid-mpnet-last4.yaml"


@dataclass(frozen=True)
class ActorHead:
    C: float = 4.0
    holder_scale: float = 1.0  # times the recipe's holder_weight (2)
    embedding: float = 0.0  # weight of the last-4 mpnet vector (0: not read)
    tfidf: bool = True
    reported: bool = False  # the holder features' "reported" block too (training/models/holder.py)
    stance_given: float = 0.0  # weight of the stance's one-hot (labeled in training, decided in test)
    interact: bool = False  # and the cues and holder features once per stance (cue x stance)


CHAMPION = "champion: TF-IDF + cues + holder (weight 2), C=4"
HEADS = {
    CHAMPION: ActorHead(),
    "C=1": ActorHead(C=1.0),
    "C=16": ActorHead(C=16.0),
    "holder weight 1": ActorHead(holder_scale=0.5),
    "holder weight 4": ActorHead(holder_scale=2.0),
    "+ mpnet vector, weight 0.75": ActorHead(embedding=0.75),
    "+ mpnet vector, weight 1.5": ActorHead(embedding=1.5),
    "cues + holder + mpnet vector (1.5), no TF-IDF": ActorHead(embedding=1.5, tfidf=False),
    "+ the reported stance verb's subject (holder block)": ActorHead(reported=True),
    "+ the stance (one-hot, weight 1)": ActorHead(stance_given=1.0),
    "+ the stance (one-hot, weight 3)": ActorHead(stance_given=3.0),
    "+ the stance, and cues and holder per stance": ActorHead(stance_given=1.0, interact=True),
}


def actor_x(
    tfidf, b: lv.Blocks, idx: np.ndarray, head: ActorHead, reported: np.ndarray, stances=None, n_s=0, none_s=0
):
    """The actor head's rows; ``stances``: each row's stance id (labeled in training, decided in test),
    one-hot over the ``n_s`` stances but none (id ``none_s``, no column)."""
    from scipy.sparse import csr_matrix, hstack

    parts = [tfidf] if head.tfidf else []
    parts += [csr_matrix(b.named[idx]), csr_matrix(head.holder_scale * b.held[idx])]
    if head.stance_given:
        one_hot = np.delete(np.eye(n_s)[stances], none_s, axis=1)  # none: all zero
        parts.append(csr_matrix(head.stance_given * one_hot))
        if head.interact:
            who = np.hstack([b.named[idx], head.holder_scale * b.held[idx]])
            parts.append(csr_matrix((one_hot[:, :, None] * who[:, None, :]).reshape(len(idx), -1)))
    if head.reported:
        parts.append(csr_matrix(reported[idx]))
    if head.embedding:
        parts.append(csr_matrix(head.embedding * b.embeddings[LAST4][idx]))
    return hstack(parts).tocsr()


def main() -> None:
    st = lv.study(RECIPE)
    scheme, recipe, labels, texts, contexts = st.scheme, st.recipe, st.scheme.labels, st.texts, st.contexts
    none_s, n_s, real, y_a, y_s, arts, ntr = st.none_s, st.n_s, st.real, st.y_a, st.y_s, st.arts, st.ntr
    meta, folds, splits = {"data_version": st.version}, st.folds, st.splits()
    b = lv.blocks(recipe, scheme, texts, contexts, st.version, [LAST4])
    reported = _reported_block(recipe, scheme, texts, contexts)
    stance_head = lv.StanceHead(
        ((LAST4, recipe.embedding_weight),), recipe.C, holder_cues=recipe.stance_cues_weight
    )

    s_pred = {}  # split -> the champion's stance decisions
    given = {h: {} for h in HEADS}  # head -> split -> p(actor | a stance)
    for name, tr, te in splits:
        t0 = time.perf_counter()
        tf_tr, tf_te = lv.split_features(recipe, b, tr, te)
        x_tr, x_te = lv.stance_x(tf_tr, b, tr, stance_head), lv.stance_x(tf_te, b, te, stance_head)
        p, _ = lv.fit_stance(recipe, stance_head, x_tr, y_s[tr], x_te, n_s, none_s)
        s_pred[name] = p.argmax(axis=1)
        for h, head in HEADS.items():
            given[h][name] = lv.fit_actor(
                recipe,
                actor_x(tf_tr, b, tr, head, reported, y_s[tr], n_s, none_s),
                y_a[tr],
                actor_x(tf_te, b, te, head, reported, s_pred[name], n_s, none_s),
                len(real),
                head.C,
            )
        print(f"split {name}: {time.perf_counter() - t0:.0f} s", flush=True)

    def decide(g, s):
        return np.where(s == none_s, labels.none_actor_id, g.argmax(axis=1))

    result = {"data_version": meta["data_version"], "recipe": str(RECIPE.relative_to(ROOT)), "heads": {}}
    te_arts, te_a, te_s = arts[ntr:], y_a[ntr:], y_s[ntr:]
    ref_time = decide(given[CHAMPION]["time"], s_pred["time"])
    for h in HEADS:
        a_cv, s_cv = np.zeros(ntr, int), np.zeros(ntr, int)
        best_cv = np.zeros(ntr, int)
        for k, (_, te) in enumerate(folds):
            a_cv[te], s_cv[te] = decide(given[h][str(k)], s_pred[str(k)]), s_pred[str(k)]
            best_cv[te] = given[h][str(k)].argmax(axis=1)
        a_time = decide(given[h]["time"], s_pred["time"])
        entry = intervals.figures("cv", arts[:ntr], y_a[:ntr], y_s[:ntr], a_cv, s_cv, n_s, none_s)
        entry |= intervals.figures("time", te_arts, te_a, te_s, a_time, s_pred["time"], n_s, none_s)
        bearing_tr, bearing_te = y_s[:ntr] != none_s, te_s != none_s
        entry["cv_best_actor_bearing"] = float((best_cv[bearing_tr] == y_a[:ntr][bearing_tr]).mean())
        best_time = given[h]["time"].argmax(axis=1)
        entry["time_best_actor_bearing"] = float((best_time[bearing_te] == te_a[bearing_te]).mean())
        if h != CHAMPION:
            d = intervals.paired_e2e_difference(te_arts, te_a, te_s, ref_time, a_time, none_s)
            entry["time_actor_e2e_minus_champion"] = [round(x, 4) for x in d]
        result["heads"][h] = {k: (round(v, 4) if isinstance(v, float) else v) for k, v in entry.items()}
        print(
            h, json.dumps({k: v for k, v in result["heads"][h].items() if "_lo" not in k and "_hi" not in k})
        )
    result["chosen_by_cv"] = max(result["heads"], key=lambda k: result["heads"][k]["cv_actor_accuracy_e2e"])
    OUT.mkdir(parents=True, exist_ok=True)
    _write(OUT / "result.json", json.dumps(result, indent=2) + "\n")
    _write(OUT / "result.md", render(result))
    print(f"-> {OUT / 'result.md'}")


def _reported_block(recipe, scheme, texts, contexts) -> np.ndarray:
    """The holder features' "reported" block at the recipe's holder weight (the others are in ``b.held``)."""
    from training.models import holder

    resolver = lv.hybrid(recipe, scheme)._resolver()
    return recipe.holder_weight * holder.features(texts, contexts, resolver, ["reported"])


def render(r: dict) -> str:
    def iv(v, key):
        return f"{v[key]:.3f} [{v[key + '_lo']:.3f}, {v[key + '_hi']:.3f}]"

    lines = [
        "# Levers for the actor head, the champion's stance head fixed",
        "",
        f"Data version {r['data_version']}, features of `{r['recipe']}`; grouped 5-fold CV over the 172 training "
        "articles (out of fold) and the time split (the 44 newest articles). Actor accuracy end to end: a "
        "stance-bearing sentence counts when its predicted actor is its labeled primary actor (the stance "
        "decisions are the champion's in every row). Best actor: the head's best real actor on stance-bearing "
        "sentences, whatever the stance head says. Intervals: 90 % bootstrap by article; the difference is "
        "paired against the first row.",
        "",
        "| actor head | CV: actor e2e | CV: best actor, stance-bearing | time: actor e2e | time: best actor, "
        "stance-bearing | time: actor e2e minus champion |",
        "|---|---|---|---|---|---|",
    ]
    for h, v in r["heads"].items():
        d = v.get("time_actor_e2e_minus_champion")
        diff = "" if d is None else f"{d[0]:+.3f} [{d[1]:+.3f}, {d[2]:+.3f}]"
        lines.append(
            f"| {h} | {iv(v, 'cv_actor_accuracy_e2e')} | {v['cv_best_actor_bearing']:.3f} "
            f"| {iv(v, 'time_actor_accuracy_e2e')} | {v['time_best_actor_bearing']:.3f} | {diff} |"
        )
    lines += ["", f"Chosen by grouped CV (actor e2e, training articles only): `{r['chosen_by_cv']}`"]
    return "\n".join(lines) + "\n"


if __name__ == "__main__":
    main()
