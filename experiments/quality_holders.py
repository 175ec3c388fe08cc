"""Two levers for the holder, the champion's stance decisions fixed (issue 11, session 21).

**1. Holder cues with one weight for every actor: a conditional logit over the candidates.**

The actor head (a multinomial logistic regression over TF-IDF, the actor-name cues and the
holder features) learns each cue once per actor: "the parsed subject is a mediator" has its
own weight, learned from the mediators' holders in the training articles, and those are few
(about 1 % of the training sentences, against 19 % of the newest articles' holders: the
coverage moved to third states' mediation). Yet what the cue means is the same for every
actor: the subject of the stance verb, the third party of a mediation phrase, the holder
found in the sentences before, the actor named first.

A conditional logit scores each candidate actor ``a`` of a sentence with features of the pair
(sentence, ``a``), one weight shared by all actors, and a bias per actor:

    score(a) = w_lr * log p_head(a) + sum_k w_k * cue_k(sentence, a) + b_a

``cue_k``: the holder blocks of the recipe (its `holder_features`) and the actor named
first, second and third, each read at column ``a``. ``p_head``: the shipped actor head's
probability, out of fold on the training articles (an inner grouped 5-fold), so the weights
are fitted on what the head says of sentences it did not see. Variants: with and without the
head's log-probability (the cues alone), and an L2 penalty set before the run.

The stance decisions are not this study's: a row's CV figure is the holder's accuracy on the
labeled stance-bearing sentences (the best real actor, whatever the stance head says), and its
time-split figure adds actor accuracy end to end with the champion refit's stance decisions
(``--against RUN_ID``: its time-split predictions in this MLflow store), paired by article
against that run's own holders. The pick is by grouped CV over the training articles.

**2. The holder's own words.** The gazetteer and the actor cues name the holders they list;
the parse finds the holder's phrase whatever it is ("informed sources", "the emirate",
"International actors including the UK", "Saudi officials"). Its n-grams (the subject of the
stance verb, the source of "according to", the subject a speech verb reports), in a TF-IDF
vocabulary of their own fitted on the split's training sentences, join the actor head's rows
at a weight set before the run.

Two readings beside the levers, on the same run's predictions: **where the holders are lost**
(the shipped head's best actor on labeled stance-bearing sentences, by whether the parse found
the labeled holder: as the subject, the broker or the context's holder; only named in the
sentence; neither), and **what a lower bar for a stance buys** (a log-offset on p(none) at
decision time: actor accuracy end to end rises because it counts only stance-bearing sentences,
while stance macro-F1 and the per-article (actor, stance) pairs an analyst reads fall).

    .venv/bin/python experiments/quality_holders.py --against f7b8e4a106ff47e7b9ce985797ab1c42

Writes experiments/quality-holders/result.json and result.md (or under ``--out``:
experiments/gazetteer-surnames, the same study after the session-21 gazetteer additions).
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
os.environ.setdefault("HF_HUB_OFFLINE", "1")

from experiments import quality_levers as lv  # noqa: E402
from experiments.quality import _write  # noqa: E402
from training import intervals  # noqa: E402

OUT = ROOT / "experiments" / "quality-holders"
RECIPE = ROOT / "configs" / "hybrid-mpnet-broker.yaml"  # the champion blend's holders (member 0)
INNER = 5  # inner grouped folds for the head's out-of-fold probabilities
VARIANTS = {  # name -> (read the head's log-probability, L2 penalty); set before the run
    "head + shared cues, L2 0.1": (True, 0.1),
    "head + shared cues, L2 1": (True, 1.0),
    "shared cues alone, L2 0.1": (False, 0.1),
}
PHRASES = {  # name -> weight of the holder-phrase n-grams in the actor head; set before the run
    "head + the holder's phrase n-grams, weight 1": 1.0,
    "head + the holder's phrase n-grams, weight 0.5": 0.5,
}
HEAD = "the shipped actor head (per-actor weights)"


def candidate_features(b: lv.Blocks, holder_blocks: list[np.ndarray], n_actors: int) -> np.ndarray:
    """(n, actors, cues): each holder block (one per lever of the recipe) and the actor named first,
    second and third, read at the candidate's column."""
    k = n_actors
    ranks = (b.named.shape[1] - 1) // k
    blocks = [x[:, :k] for x in holder_blocks] + [b.named[:, r * k : (r + 1) * k] for r in range(ranks)]
    return np.stack(blocks, axis=-1)


def lever_blocks(recipe, scheme, texts: list[str], contexts: list[str]) -> list[np.ndarray]:
    """The recipe's holder features one lever at a time (training/models/holder.py; the parse is cached)."""
    from training.models import holder

    resolver = lv.hybrid(recipe, scheme)._resolver()
    return [holder.features(texts, contexts, resolver, [lever]) for lever in recipe.holder_features]


def fit_logit(phi: np.ndarray, y: np.ndarray, l2: float) -> np.ndarray:
    """Shared weights (one per cue) and a bias per actor (the first at 0), by L-BFGS on the log loss."""
    from scipy.optimize import minimize
    from scipy.special import logsumexp

    n, k, d = phi.shape

    def loss(theta):
        w, b = theta[:d], np.concatenate([[0.0], theta[d:]])
        s = phi @ w + b
        lse = logsumexp(s, axis=1)
        p = np.exp(s - lse[:, None])
        nll = (lse - s[np.arange(n), y]).sum() + 0.5 * l2 * (w @ w)
        g = p.copy()
        g[np.arange(n), y] -= 1
        gw = np.einsum("nk,nkd->d", g, phi) + l2 * w
        gb = g.sum(axis=0)[1:]
        return nll, np.concatenate([gw, gb])

    res = minimize(loss, np.zeros(d + k - 1), jac=True, method="L-BFGS-B")
    return res.x


def score_logit(theta: np.ndarray, phi: np.ndarray) -> np.ndarray:
    d = phi.shape[2]
    s = phi @ theta[:d] + np.concatenate([[0.0], theta[d:]])
    return s.argmax(axis=1)


def holder_phrases(texts: list[str]) -> list[str]:
    """Each sentence's holder phrases as one string: the stance verb's subject, the "according to"
    source and the reported subject, each word tagged by its role (``subj_sources``)."""
    from training.models import holder

    out = []
    for a in holder.analyze(texts):
        words = [
            f"{role}_{w}"
            for role, phrase in (("subj", a.holder), ("acc", a.according), ("rep", a.reported))
            for w in phrase.lower().split()
        ]
        out.append(" ".join(words))
    return out


def _phrase_tfidf():
    from sklearn.feature_extraction.text import TfidfVectorizer

    # tokens are the tagged words; bigrams keep "subj_security subj_sources" apart from "subj_sources"
    return TfidfVectorizer(token_pattern=r"\S+", ngram_range=(1, 2), min_df=2, sublinear_tf=True)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--against", metavar="RUN_ID", required=True, help="the champion refit's MLflow run")
    ap.add_argument("--out", type=Path, default=OUT, help=f"result folder (default {OUT.relative_to(ROOT)})")
    args = ap.parse_args()
    from sklearn.model_selection import GroupKFold

    from experiments.time_split_recipes import _rows
    from training import champion, tracking

    tracking.setup("time-split-only")
    jsonl = champion.predictions_jsonl(args.against)
    if jsonl is None:
        sys.exit(f"run {args.against} has no time-split predictions in this MLflow store")
    ref = _rows(jsonl)
    st = lv.study(RECIPE)
    scheme, recipe = st.scheme, st.recipe
    real, none_s, n_s, ntr = st.real, st.none_s, st.n_s, st.ntr
    k = len(real)
    b = lv.blocks(recipe, scheme, st.texts, st.contexts, st.version, [])
    cand = candidate_features(b, lever_blocks(recipe, scheme, st.texts, st.contexts), k)
    print(f"{cand.shape[2]} shared cues per candidate", flush=True)

    phrases = holder_phrases(st.texts)

    def head_proba(tr, te, phrase_weight=0.0):
        from scipy.sparse import hstack

        tf_tr, tf_te = lv.split_features(recipe, b, tr, te)
        x_tr, x_te = lv.actor_x(tf_tr, b, tr), lv.actor_x(tf_te, b, te)
        if phrase_weight:
            vocab = _phrase_tfidf().fit([phrases[i] for i in tr])
            x_tr = hstack([x_tr, phrase_weight * vocab.transform([phrases[i] for i in tr])]).tocsr()
            x_te = hstack([x_te, phrase_weight * vocab.transform([phrases[i] for i in te])]).tocsr()
        return lv.fit_actor(recipe, x_tr, st.y_a[tr], x_te, k)

    best = {
        v: {} for v in [HEAD, *VARIANTS, *PHRASES]
    }  # variant -> split -> best real actor of the test rows
    for name, tr, te in st.splits():
        t0 = time.perf_counter()
        p_te = head_proba(tr, te)
        # the head's out-of-fold probabilities on the split's training rows (inner grouped folds)
        p_oof = np.zeros((len(tr), k))
        for itr, ite in GroupKFold(INNER).split(tr, groups=st.arts[tr]):
            p_oof[ite] = head_proba(tr[itr], tr[ite])
        bearing = st.y_a[tr] != k
        best[HEAD][name] = p_te.argmax(axis=1)
        for v, weight in PHRASES.items():
            best[v][name] = head_proba(tr, te, weight).argmax(axis=1)
        for v, (with_head, l2) in VARIANTS.items():

            def phi(p, rows, with_head=with_head):
                x = cand[rows]
                if with_head:
                    x = np.concatenate([np.log(np.clip(p, 1e-9, None))[:, :, None], x], axis=-1)
                return x

            theta = fit_logit(phi(p_oof, tr)[bearing], st.y_a[tr][bearing], l2)
            best[v][name] = score_logit(theta, phi(p_te, te))
            if name == "time":
                print(f"  {v}: weights {np.round(theta[: cand.shape[2] + with_head], 2).tolist()}")
        print(f"split {name}: {time.perf_counter() - t0:.0f} s", flush=True)

    ids = st.ids[ntr:]
    te_arts, te_a, te_s = st.arts[ntr:], st.y_a[ntr:], st.y_s[ntr:]
    stances = scheme.stance_labels
    s_ref = np.array([stances.index(ref[i]["predicted"][1]) for i in ids])
    a_ref = np.array([scheme.actor_labels.index(ref[i]["predicted"][0]) for i in ids])

    def decide(best_actor):
        return np.where(s_ref == none_s, scheme.labels.none_actor_id, best_actor)

    result = {
        "data_version": st.version,
        "recipe": str(RECIPE.relative_to(ROOT)),
        "against": args.against,
        "rows": {},
    }
    bearing_tr, bearing_te = st.y_s[:ntr] != none_s, te_s != none_s
    for v in best:
        cv = np.zeros(ntr, int)
        for f, (_, te) in enumerate(st.folds):
            cv[np.asarray(te)] = best[v][str(f)]
        a_time = decide(best[v]["time"])
        e2e = intervals.figures("time", te_arts, te_a, te_s, a_time, s_ref, n_s, none_s)
        d = intervals.paired_e2e_difference(te_arts, te_a, te_s, a_ref, a_time, none_s)
        result["rows"][v] = {
            "cv_best_actor_bearing": round(float((cv[bearing_tr] == st.y_a[:ntr][bearing_tr]).mean()), 4),
            "time_best_actor_bearing": round(
                float((best[v]["time"][bearing_te] == te_a[bearing_te]).mean()), 4
            ),
            "time_actor_e2e": [
                round(e2e[x], 4)
                for x in (
                    "time_actor_accuracy_e2e",
                    "time_actor_accuracy_e2e_lo",
                    "time_actor_accuracy_e2e_hi",
                )
            ],
            "time_actor_e2e_minus_champion": [round(x, 4) for x in d],
            "time_agrees_with_champion_holders": round(float((a_time == a_ref)[s_ref != none_s].mean()), 4),
        }
        print(v, json.dumps(result["rows"][v]), flush=True)
    oof = np.zeros(ntr, int)
    for f, (_, te) in enumerate(st.folds):
        oof[np.asarray(te)] = best[HEAD][str(f)]
    result["where_lost"] = {
        "cv": where_lost(cand, recipe.holder_features, st.y_a[:ntr], st.y_s[:ntr], oof, none_s, real),
        "time": where_lost(cand[ntr:], recipe.holder_features, te_a, te_s, best[HEAD]["time"], none_s, real),
    }
    result["none_offsets"] = none_offsets(ref, ids, scheme, te_arts, te_a, te_s)
    result["chosen_by_cv"] = max(result["rows"], key=lambda v: result["rows"][v]["cv_best_actor_bearing"])
    args.out.mkdir(parents=True, exist_ok=True)
    _write(args.out / "result.json", json.dumps(result, indent=2) + "\n")
    _write(args.out / "result.md", render(result))
    print(f"-> {args.out / 'result.md'}")


def where_lost(cand, levers: list[str], y_a, y_s, best_actor, none_s: int, real: list[str]) -> dict:
    """Labeled stance-bearing sentences by what the parse found of the labeled holder, and how many of
    each the head gets right; then each parsed mediator block's precision against the head's.
    ``levers``: the holder blocks at the front of ``cand``, in order (candidate_features)."""
    rows = np.where(y_s != none_s)[0]
    held = len(levers)
    out = {}
    for i in rows:
        a = y_a[i]
        kind = "parsed" if cand[i, a, :held].any() else "named only" if cand[i, a, held:].any() else "neither"
        right, n = out.get(kind, (0, 0))
        out[kind] = (right + int(best_actor[i] == a), n + 1)
    m = real.index("mediator")
    for name in ("subject", "broker"):
        hit = rows[cand[rows, m, levers.index(name)] > 0]
        out[f"{name} is a mediator: parse right / head right / n"] = (
            int((y_a[hit] == m).sum()),
            int((best_actor[hit] == y_a[hit]).sum()),
            int(len(hit)),
        )
    return out


def none_offsets(ref: dict, ids: list[str], scheme, arts, y_a, y_s) -> dict:
    """The champion refit's decisions with log p(none) lowered: stance, holders and article pairs."""
    from training.evaluate import profile_pairs

    stances = scheme.stance_labels
    none_s, none_a = scheme.labels.none_stance_id, scheme.labels.none_actor_id
    sp = np.array([[ref[i]["stance_p"][s] for s in stances] for i in ids])
    best = np.array([np.argmax([ref[i]["actor_p"][a] for a in scheme.labels.real_actors]) for i in ids])
    out = {}
    for offset in (0.0, -0.25, -0.5, -1.0):
        q = np.log(np.clip(sp, 1e-12, None))
        q[:, none_s] += offset
        s = q.argmax(axis=1)
        a = np.where(s == none_s, none_a, best)
        f = intervals.figures("t", arts, y_a, y_s, a, s, len(stances), none_s)
        pairs = profile_pairs(arts, y_a, y_s, a, s, none_s)
        out[str(offset)] = {
            "stance_macro_f1": round(f["t_stance_macro_f1"], 4),
            "actor_e2e": round(f["t_actor_accuracy_e2e"], 4),
            "pair_precision": round(pairs["profile_pair_precision"], 4),
            "pair_recall": round(pairs["profile_pair_recall"], 4),
            "pair_f1": round(pairs["profile_pair_f1"], 4),
            "none_rate": round(float((s == none_s).mean()), 4),
        }
    out["labeled none rate"] = round(float((y_s == none_s).mean()), 4)
    return out


def render(r: dict) -> str:
    lines = [
        "# Two levers for the holder, where the holders are lost, and what a lower bar for a stance buys",
        "",
        f"Data version {r['data_version']}, features of `{r['recipe']}`. CV: grouped 5-fold over the 172 training "
        "articles, the holder's accuracy on labeled stance-bearing sentences (best real actor). Time split: the 44 "
        f"newest articles, with the stance decisions of run `{r['against'][:8]}` (the champion recipe's refit); "
        "actor accuracy end to end paired by article against that run's own holders (90 % intervals).",
        "",
        "| holder model | CV: best actor, stance-bearing | time: best actor, stance-bearing | time: actor e2e | "
        "minus the champion's holders | agrees with them |",
        "|---|---|---|---|---|---|",
    ]
    for v, x in r["rows"].items():
        e, d = x["time_actor_e2e"], x["time_actor_e2e_minus_champion"]
        lines.append(
            f"| {v} | {x['cv_best_actor_bearing']:.3f} | {x['time_best_actor_bearing']:.3f} | "
            f"{e[0]:.3f} [{e[1]:.3f}, {e[2]:.3f}] | {d[0]:+.3f} [{d[1]:+.3f}, {d[2]:+.3f}] | "
            f"{x['time_agrees_with_champion_holders']:.3f} |"
        )
    lines += ["", f"Chosen by grouped CV (training articles only): `{r['chosen_by_cv']}`", ""]
    lines += [
        "## Where the holders are lost (the shipped head)",
        "",
        "Labeled stance-bearing sentences by what the parse found of the labeled holder; the head's best actor "
        "right / all. CV: out of fold on the training articles; time: the newest articles.",
        "",
        "| the labeled holder is | CV | time split |",
        "|---|---|---|",
    ]
    for kind in r["where_lost"]["time"]:
        cells = []
        for split in ("cv", "time"):
            v = r["where_lost"][split].get(kind)
            if v is None:
                cells.append("")
            elif len(v) == 2:
                cells.append(f"{v[0]} / {v[1]} ({v[0] / max(v[1], 1):.2f})")
            else:
                cells.append(f"parse {v[0]}, head {v[1]}, of {v[2]}")
        lines.append(f"| {kind} | {cells[0]} | {cells[1]} |")
    lines += [
        "",
        "## What a lower bar for a stance buys (the champion refit's probabilities, time split)",
        "",
        "| log-offset on p(none) | stance macro-F1 | actor e2e | article pairs: precision / recall / F1 | "
        "predicted none |",
        "|---|---|---|---|---|",
    ]
    for offset, v in r["none_offsets"].items():
        if isinstance(v, dict):
            lines.append(
                f"| {offset} | {v['stance_macro_f1']:.3f} | {v['actor_e2e']:.3f} | {v['pair_precision']:.3f} / "
                f"{v['pair_recall']:.3f} / {v['pair_f1']:.3f} | {v['none_rate']:.3f} |"
            )
    lines += ["", f"Labeled none: {r['none_offsets']['labeled none rate']:.3f} of the test sentences.", ""]
    return "\n".join(lines)


if __name__ == "__main__":
    main()
