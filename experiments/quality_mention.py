"""Reading who is named *where* in the sentence: a mention scorer for the actor head (issue 11, session 14).

The actor head reads which actors a sentence names (first, second, third), its n-grams and the
parse's holder; what is left wrong mostly needs the sentence read as a whole: in "Khawaja Asif
says Taliban requested Rs10 billion" the Taliban hold the demand although Pakistan is named
first. The frozen encoder's token states are contextual: the state of "Taliban" there carries
that it is the subject of "requested". This study scores each actor the sentence names by the
encoder's states *at its mention*:

* **mentions**: the actor-name cues' and the gazetteer's matches (training/models/cues.py's table
  and masking: the TTP's name is never Pakistan's), mapped to the tokens they cover; an actor's
  mention vector is the mean of those tokens' states (the mean of the last four layers, as the
  attention head reads them), layer-normed; an actor not named gets zeros and a flag.
* **scorer**: one binary logistic regression over (sentence, actor) pairs of the stance-bearing
  training sentences, "is this actor the labeled holder": the mention vector, the actor's one-hot
  (named / not named). One weight vector for all actors: what a holder's mention looks like.
* **joined** with the champion's actor head: log p(actor) + lambda * the scorer's logit,
  renormalised over the five actors; lambda 0.5, 1, 2, and the scorer alone; the pick by grouped
  CV over the training articles (pooled out-of-fold actor accuracy end to end), never by the test
  figure.

Stances are the champion's (``hybrid-mpnet-attn``: its logistic regression joined with one
attention head, ``which``), fixed, so a row's actor figure measures the holder alone. Same data,
splits and intervals as experiments/quality.py (grouped 5-fold CV over the 172 training
articles; the 44 newest as the time split; 90 % paired bootstrap by article against the
champion's actor head).

    .venv/bin/python experiments/quality_mention.py

Writes experiments/quality-mention/result.json and result.md.
"""

from __future__ import annotations

import json
import re
import sys
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from experiments import quality_attention as qa  # noqa: E402
from experiments import quality_levers as lv  # noqa: E402
from experiments.quality import _write  # noqa: E402
from training import intervals  # noqa: E402

OUT = ROOT / "experiments" / "quality-mention"
RECIPE = ROOT / "configs" / "hybrid-mpnet-attn.yaml"
LAMBDAS = (0.5, 1.0, 2.0)  # set before the run
CS = (0.1, 1.0)  # the scorer's inverse regularisation, picked by CV with lambda


def spans(text: str, table: tuple[tuple[str, str], ...]) -> list[tuple[int, int, str]]:
    """(start, end, actor) of each cue match, with training/models/cues.py's masking order."""
    masked, hits = text.lower(), []
    for actor, pattern in table:
        for m in re.finditer(pattern, masked):
            if m.end() > m.start():
                hits.append((m.start(), m.end(), actor))
                masked = masked[: m.start()] + "#" * (m.end() - m.start()) + masked[m.end() :]
    return sorted(hits)


def mention_vectors(
    texts, tokens, table, actors, base_model: str, max_length: int
) -> tuple[np.ndarray, np.ndarray]:
    """(n, actors, d) layer-normed mean token state at each actor's mentions, and (n, actors) named flags."""
    from training.models import encoder

    tokenizer, _ = encoder.load_frozen(base_model)
    d = tokens[0].shape[1]
    vec = np.zeros((len(texts), len(actors), d), np.float32)
    named = np.zeros((len(texts), len(actors)), np.float32)
    for i, text in enumerate(texts):
        enc = tokenizer(text, truncation=True, max_length=max_length, return_offsets_mapping=True)
        offsets = enc["offset_mapping"]
        assert len(offsets) == len(tokens[i]), (i, len(offsets), len(tokens[i]))
        found = spans(text, table)
        for k, actor in enumerate(actors):
            mine = [(start, end) for start, end, a in found if a == actor]
            cover = [j for j, (s, e) in enumerate(offsets) if e > s and any(s < b and e > a for a, b in mine)]
            if cover:
                x = tokens[i][cover].astype(np.float32).mean(0)
                vec[i, k] = (x - x.mean()) / (x.std() + 1e-6)
                named[i, k] = 1.0
    return vec, named


def pair_x(vec: np.ndarray, named: np.ndarray, idx: np.ndarray) -> np.ndarray:
    """One row per (sentence, actor): the mention vector / sqrt(d), the actor named / not named one-hots."""
    n, k, d = vec[idx].shape
    eye = np.eye(k, dtype=np.float32)[None].repeat(n, 0)
    flags = np.concatenate([eye * named[idx][:, :, None], eye * (1 - named[idx])[:, :, None]], axis=2)
    return np.concatenate([vec[idx] / np.sqrt(d), flags], axis=2).reshape(n * k, -1)


def fit_scorer(vec, named, y_a, tr, te, n_actors: int, C: float, seed: int = 0) -> np.ndarray:
    """(len(te), actors) logits: how much each actor's mention looks like the holder's."""
    from sklearn.linear_model import LogisticRegression

    bearing = tr[y_a[tr] != n_actors]
    target = (np.arange(n_actors)[None] == y_a[bearing][:, None]).reshape(-1).astype(int)
    lr = LogisticRegression(C=C, max_iter=2000, random_state=seed).fit(pair_x(vec, named, bearing), target)
    return lr.decision_function(pair_x(vec, named, te)).reshape(len(te), n_actors)


def join(p_head: np.ndarray, logits: np.ndarray, lam: float | None) -> np.ndarray:
    """The head's probabilities tilted by the scorer (``lam`` None: the scorer alone)."""
    z = logits if lam is None else np.log(np.clip(p_head, 1e-12, None)) + lam * logits
    z = z - z.max(axis=1, keepdims=True)
    p = np.exp(z)
    return p / p.sum(axis=1, keepdims=True)


def main() -> None:
    import pickle

    from training.models.base import full_proba

    st = lv.study(RECIPE)
    scheme, recipe, texts, contexts = st.scheme, st.recipe, st.texts, st.contexts
    none_s, n_s, real, y_a, y_s, arts, ntr = st.none_s, st.n_s, st.real, st.y_a, st.y_s, st.arts, st.ntr
    t0 = time.perf_counter()
    tokens = qa.token_states(texts, st.version, recipe)
    key = qa.vector_key(recipe)
    b = lv.blocks(recipe, scheme, texts, contexts, st.version, [key])
    table = tuple(lv.hybrid(recipe, scheme)._cue_pairs())
    vec, named = mention_vectors(texts, tokens, table, real, recipe.base_model, recipe.max_length)
    feature_s = time.perf_counter() - t0
    print(f"features: {feature_s:.0f} s; named per sentence {named.sum(1).mean():.2f}", flush=True)
    extra = np.hstack([b.named, b.held]).astype(np.float32)
    lr_head = lv.StanceHead(
        ((key, recipe.embedding_weight),), recipe.C, holder_cues=recipe.stance_cues_weight
    )
    attn = qa.Head(queries=recipe.attention_queries, epochs=recipe.attention_epochs, seeds=(0,))
    cache = ROOT / ".stance" / "cache" / "quality" / f"{st.version}-splits-mention"
    cache.mkdir(parents=True, exist_ok=True)
    runs = {}
    for name, tr, te in st.splits():
        path = cache / f"split-{name}.pkl"
        if path.is_file():
            runs[name] = pickle.loads(path.read_bytes())
            continue
        t1 = time.perf_counter()
        tf_tr, tf_te = lv.split_features(recipe, b, tr, te)
        x_tr, x_te = lv.stance_x(tf_tr, b, tr, lr_head), lv.stance_x(tf_te, b, te, lr_head)
        p_lr = lv.fit_stance(recipe, lr_head, x_tr, y_s[tr], x_te, n_s, none_s)[0]
        p_at = qa.fit_predict(tokens, extra, y_s, tr, te, n_s, attn)
        stance = qa._mix({"lr": p_lr, "at": p_at}, "lr", "at", none_s, recipe.attention_weight)
        bearing = y_a[tr] != len(real)
        actor = lv.logistic(recipe, recipe.C).fit(lv.actor_x(tf_tr, b, tr)[bearing], y_a[tr][bearing])
        done = {
            "stance": stance,
            "actor": full_proba(actor, lv.actor_x(tf_te, b, te), len(real)),
            "scorer": {C: fit_scorer(vec, named, y_a, tr, te, len(real), C) for C in CS},
        }
        qa._save_pickle(path, done)
        runs[name] = done
        print(f"  split {name}: {time.perf_counter() - t1:.0f} s", flush=True)
    result = evaluate(runs, st.folds, arts, y_a, y_s, ntr, n_s, none_s)
    result |= {
        "data_version": st.version,
        "recipe": str(RECIPE.relative_to(ROOT)),
        "feature_seconds": round(feature_s, 1),
    }
    OUT.mkdir(parents=True, exist_ok=True)
    _write(OUT / "result.json", json.dumps(result, indent=2) + "\n")
    _write(OUT / "result.md", render(result))
    print(f"-> {OUT / 'result.md'}")


def evaluate(runs, folds, arts, y_a, y_s, ntr, n_s, none_s) -> dict:
    rows = {"champion's actor head": None}
    for C in CS:
        rows[f"scorer alone, C={C:g}"] = (C, None)
        rows |= {f"head + {lam:g} x scorer, C={C:g}": (C, lam) for lam in LAMBDAS}

    def predict(split: str, row: str):
        r = runs[split]
        s = r["stance"].argmax(axis=1)
        p = r["actor"] if rows[row] is None else join(r["actor"], r["scorer"][rows[row][0]], rows[row][1])
        return np.where(s == none_s, p.shape[1], p.argmax(axis=1)), s

    te_arts, te_a, te_s = arts[ntr:], y_a[ntr:], y_s[ntr:]
    ref_a, _ = predict("time", "champion's actor head")
    out = {"rows": {}}
    for row in rows:
        a_cv, s_cv = np.zeros(ntr, int), np.zeros(ntr, int)
        for k, (_, te) in enumerate(folds):
            a_cv[te], s_cv[te] = predict(str(k), row)
        a_t, s_t = predict("time", row)
        e = intervals.figures("cv", arts[:ntr], y_a[:ntr], y_s[:ntr], a_cv, s_cv, n_s, none_s)
        e |= intervals.figures("time", te_arts, te_a, te_s, a_t, s_t, n_s, none_s)
        bearing = (y_s[:ntr] != none_s) & (s_cv != none_s)
        e["cv_holder_accuracy_where_stance_predicted"] = float((a_cv[bearing] == y_a[:ntr][bearing]).mean())
        bearing = (te_s != none_s) & (s_t != none_s)
        e["time_holder_accuracy_where_stance_predicted"] = float((a_t[bearing] == te_a[bearing]).mean())
        e = {k: round(v, 4) for k, v in e.items()}
        e["time_actor_e2e_minus_champion"] = [
            round(x, 4) for x in intervals.paired_e2e_difference(te_arts, te_a, te_s, ref_a, a_t, none_s)
        ]
        out["rows"][row] = e
        print(row, json.dumps({k: e[k] for k in ("cv_actor_accuracy_e2e", "time_actor_accuracy_e2e")}),
              e["time_actor_e2e_minus_champion"], flush=True)  # fmt: skip
    out["chosen_by_cv"] = max(out["rows"], key=lambda k: out["rows"][k]["cv_actor_accuracy_e2e"])
    return out


def render(r: dict) -> str:
    def iv(v, key):
        return f"{v[key]:.3f} [{v[key + '_lo']:.3f}, {v[key + '_hi']:.3f}]"

    lines = [
        f"# A mention scorer for the actor head (stances: `{r['recipe']}`'s, fixed)",
        "",
        f"Data version {r['data_version']}; grouped 5-fold CV over the 172 training articles (out of fold) "
        "and the time split (the 44 newest articles). Intervals: 90 % bootstrap by article; the difference "
        f"paired against the champion's actor head (first row). Features (token states, parse, mentions): "
        f"{r['feature_seconds']:.0f} s.",
        "",
        "| actor head | CV: actor e2e | CV: holder right where a stance is predicted | time: actor e2e "
        "| time: holder right where a stance is predicted | actor e2e minus the champion's head |",
        "|---|---|---|---|---|---|",
    ]
    for k, v in r["rows"].items():
        d = v["time_actor_e2e_minus_champion"]
        lines.append(
            f"| {k} | {iv(v, 'cv_actor_accuracy_e2e')} | {v['cv_holder_accuracy_where_stance_predicted']:.3f} "
            f"| {iv(v, 'time_actor_accuracy_e2e')} | {v['time_holder_accuracy_where_stance_predicted']:.3f} "
            f"| {d[0]:+.3f} [{d[1]:+.3f}, {d[2]:+.3f}] |"
        )
    lines += ["", f"Chosen by grouped CV over the training articles: `{r['chosen_by_cv']}`."]
    return "\n".join(lines) + "\n"


if __name__ == "__main__":
    main()
