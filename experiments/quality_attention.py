"""Learned attention over the frozen encoder's tokens, for the stance and actor heads (issue 11).

The champion reads each sentence as one vector: the mean of all-mpnet-base-v2's token states
(last four layers). A stance hangs on a few words (the verb and who says it), and a mean
dilutes them; fine-tuning the encoder end to end is the measured cure (time-split stance
0.728 against 0.666) but costs an hour a fit on 2 cores. This study asks how much of that a
*small trained head over the frozen token states* gets back, at a cost that fits the demo's
budget (the encoder's forward pass once, then seconds per fit):

* **attention head**: the token states (mean of the last four layers, per token), layer-normed;
  ``q`` learned queries each pool the tokens by softmax attention (queries start at zero, so
  training starts from mean pooling); the pooled vectors, the token mean and the champion's
  actor-name cues and holder features feed one linear layer. Trained with AdamW and
  class-balanced cross-entropy for a fixed number of epochs, three seeds averaged (one, in
  the row so named: the cost a recipe pays);
  nothing is tuned on the test articles.
* **control**: the same head with no queries (the token mean and the cues through one linear
  layer), so that a gain can be told apart from a different classifier on the same mean.
* **ensembles**: each head's probabilities averaged with the champion's own (its logistic
  regression over TF-IDF, the mean vector, cues and holder features), weight 0.5.
* **stance-bearing only** (session 12): in the recipe's ``which`` join the head's p(none) is
  dropped, so one head is trained on the stance-bearing sentences alone (the four real stances)
  and joined as a conditional: p(none) the champion's, which stance the average of the
  champion's p(stance | a stance) and the head's.
* **actor**: the same attention head trained on stance-bearing sentences for p(actor | a
  stance), alone and averaged with the champion's actor head.

Same data, splits and intervals as experiments/quality.py (grouped 5-fold CV over the 172
training articles; the 44 newest as the time split; 90 % paired bootstrap by article against
the champion). The pick is by grouped CV over the training articles (fold mean for stances,
pooled out-of-fold actor e2e for holders), never by the test figure.

    .venv/bin/python experiments/quality_attention.py
    .venv/bin/python experiments/quality_attention.py --recipe configs/hybrid.yaml \
        --out experiments/quality-attention-minilm      # the fast recipe's encoder, MiniLM

Writes experiments/quality-attention/result.json and result.md (or under ``--out``).
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
from experiments.quality import _write  # noqa: E402
from stance import paths  # noqa: E402
from training import intervals  # noqa: E402

OUT = ROOT / "experiments" / "quality-attention"
RECIPE = ROOT / "configs" / "hybrid-mpnet-last4.yaml"


@dataclass(frozen=True)
class Head:
    """One head of the study: training/models/attention.py's, its optimiser settings as there."""

    queries: int = 4  # 0: the control (token mean only)
    epochs: int = 30
    seeds: tuple[int, ...] = (0, 1, 2)  # heads trained and averaged


STANCE_HEADS = {
    "attention, 4 queries": Head(queries=4),
    "attention, 1 query": Head(queries=1),
    "attention, 1 query, one seed": Head(queries=1, seeds=(0,)),  # the cost a recipe can pay (demo budget)
    "control: token mean, no queries": Head(queries=0),
}
# session 12: in "which" the head's p(none) is thrown away, so train it on the stance-bearing
# sentences only (the four real stances): p(which stance | a stance), joined as a conditional
BEARING_HEADS = {"attention, 1 query, one seed, stance-bearing only": Head(queries=1, seeds=(0,))}
ACTOR_HEADS = {"attention, 4 queries": Head(queries=4), "control: token mean, no queries": Head(queries=0)}
ENSEMBLE_WEIGHT = 0.5  # set before the run
WEIGHTS = (0.3, 0.7, 1.0)  # other weights, scored after the recipe was chosen (what CV would pick)


# -- the token states, once ---------------------------------------------------------------------


def vector_key(recipe) -> str:
    """The study cache's name for the recipe's sentence vectors (experiments/quality_levers.py)."""
    return recipe.base_model if recipe.pooling == "mean" else f"{recipe.base_model}@{recipe.pooling}"


def token_states(texts: list[str], version: str, recipe) -> list[np.ndarray]:
    """Each sentence's token states as the recipe's attention head reads them (one (length, d)
    float16 array; training/models/encoder.py::encode_frozen), cached under .stance/cache/quality/.
    The same pass writes the recipe's sentence vectors (``vector_key``) to the study cache if they
    are not there yet."""
    from training.models import encoder

    cache = lv._cache(f"{recipe.base_model}@tokens-last4", version, recipe.max_length).with_suffix(".npz")
    if cache.is_file():
        with np.load(cache) as z:  # each key access reads the array anew: once each
            states, lengths = z["states"], z["lengths"]
        if len(lengths) == len(texts):
            return [states[i, :n] for i, n in enumerate(lengths)]
    encoder.set_threads()
    vectors, tokens = encoder.encode_frozen(
        texts, recipe.base_model, recipe.batch_size, recipe.max_length, recipe.pooling
    )
    key = lv._cache(vector_key(recipe), version, recipe.max_length)
    if not key.is_file():
        lv._save(key, vectors)
    lengths = np.array([len(t) for t in tokens], dtype=np.int32)
    states = np.zeros((len(texts), recipe.max_length, tokens[0].shape[1]), dtype=np.float16)
    for i, t in enumerate(tokens):
        states[i, : len(t)] = t
    tmp = cache.with_suffix(".tmp.npz")
    np.savez(tmp, states=states, lengths=lengths)
    tmp.replace(cache)
    return tokens


def fit_predict(tokens, extra, y, train_idx, test_idx, n_out: int, head: Head) -> np.ndarray:
    """Test rows' probabilities from ``head`` trained on ``train_idx`` (its seeds averaged)."""
    from training.models import attention

    train = [tokens[i] for i in train_idx]
    test = [tokens[i] for i in test_idx]
    fits = [
        attention.fit(train, extra[train_idx], y[train_idx], n_out, head.queries, head.epochs, seed)
        for seed in head.seeds
    ]
    return np.mean([f.predict_proba(test, extra[test_idx]) for f in fits], axis=0)


# -- the study ------------------------------------------------------------------------------------


def main() -> None:
    import argparse
    import pickle

    from training.models.base import full_proba

    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--recipe", type=Path, default=RECIPE, help="the hybrid recipe the heads join")
    parser.add_argument("--out", type=Path, default=OUT)
    args = parser.parse_args()
    st = lv.study(args.recipe)
    scheme, recipe, labels, texts, contexts = st.scheme, st.recipe, st.scheme.labels, st.texts, st.contexts
    none_s, n_s, real, y_a, y_s, arts, ntr = st.none_s, st.n_s, st.real, st.y_a, st.y_s, st.arts, st.ntr
    meta, folds, splits = {"data_version": st.version}, st.folds, st.splits()
    t0 = time.perf_counter()
    tokens = token_states(texts, st.version, recipe)
    key = vector_key(recipe)
    b = lv.blocks(recipe, scheme, texts, contexts, st.version, [key])
    feature_s = time.perf_counter() - t0
    print(f"features: {feature_s:.0f} s", flush=True)
    extra = np.hstack([b.named, b.held]).astype(np.float32)
    champion_head = lv.StanceHead(
        ((key, recipe.embedding_weight),), recipe.C, holder_cues=recipe.stance_cues_weight
    )
    suffix = "" if args.recipe.resolve() == RECIPE else f"-{args.recipe.stem}"
    cache = (
        paths.root() / ".stance" / "cache" / "quality" / f"{meta['data_version']}-splits-attention{suffix}"
    )
    cache.mkdir(parents=True, exist_ok=True)
    runs = {}
    for name, tr, te in splits:
        path = cache / f"split-{name}.pkl"
        done = pickle.loads(path.read_bytes()) if path.is_file() else {"stance": {}, "actor": {}}
        t1 = time.perf_counter()
        if "champion" not in done["stance"]:
            tf_tr, tf_te = lv.split_features(recipe, b, tr, te)
            x_tr, x_te = lv.stance_x(tf_tr, b, tr, champion_head), lv.stance_x(tf_te, b, te, champion_head)
            done["stance"]["champion"] = lv.fit_stance(
                recipe, champion_head, x_tr, y_s[tr], x_te, n_s, none_s
            )[0]
            bearing = y_a[tr] != len(real)
            actor = lv.logistic(recipe, recipe.C).fit(lv.actor_x(tf_tr, b, tr)[bearing], y_a[tr][bearing])
            done["actor"]["champion"] = full_proba(actor, lv.actor_x(tf_te, b, te), len(real))
        for v, head in STANCE_HEADS.items():
            if v not in done["stance"]:
                done["stance"][v] = fit_predict(tokens, extra, y_s, tr, te, n_s, head)
                _save_pickle(path, done)
                print(f"  split {name}, stance {v}: {time.perf_counter() - t1:.0f} s", flush=True)
        bearing_tr = tr[y_a[tr] != len(real)]
        for v, head in BEARING_HEADS.items():
            if v not in done["stance"]:  # four columns: the real stances (none is the scheme's last)
                done["stance"][v] = fit_predict(tokens, extra, y_s, bearing_tr, te, n_s - 1, head)
                _save_pickle(path, done)
                print(f"  split {name}, stance {v}: {time.perf_counter() - t1:.0f} s", flush=True)
        for v, head in ACTOR_HEADS.items():
            if v not in done["actor"]:
                done["actor"][v] = fit_predict(tokens, extra, y_a, bearing_tr, te, len(real), head)
                _save_pickle(path, done)
                print(f"  split {name}, actor {v}: {time.perf_counter() - t1:.0f} s", flush=True)
        _save_pickle(path, done)
        runs[name] = done
    result = evaluate(runs, folds, arts, y_a, y_s, ntr, n_s, none_s, labels.none_actor_id)
    result |= {
        "data_version": meta["data_version"], "recipe": str(args.recipe.resolve().relative_to(ROOT)),
        "feature_seconds": round(feature_s, 1), "seeds": 3,
        "heads": {k: vars(h) for k, h in STANCE_HEADS.items()},
    }  # fmt: skip
    args.out.mkdir(parents=True, exist_ok=True)
    _write(args.out / "result.json", json.dumps(result, indent=2) + "\n")
    _write(args.out / "result.md", render(result))
    print(f"-> {args.out / 'result.md'}")


def _save_pickle(path: Path, obj) -> None:
    import pickle

    tmp = path.with_suffix(".tmp")
    tmp.write_bytes(pickle.dumps(obj))
    tmp.replace(path)


def _mix(
    p: dict, a: str, b: str | None, none_id: int | None = None, weight: float = ENSEMBLE_WEIGHT
) -> np.ndarray:
    """``a``'s probabilities, or ``a``'s and ``b``'s joined as the recipe joins them
    (training/models/attention.py::join): averaged, or with ``none_id``, ``b`` saying only which stance."""
    from training.models import attention

    if b is None:
        return p[a]
    if p[b].shape[1] < p[a].shape[1]:  # a head of the real stances only: p(which stance | a stance)
        lr = p[a]
        real = np.arange(lr.shape[1]) != none_id
        out = np.zeros_like(lr)
        out[:, none_id] = lr[:, none_id]
        given = lr[:, real] / np.clip(lr[:, real].sum(axis=1, keepdims=True), 1e-12, None)
        out[:, real] = (1 - lr[:, [none_id]]) * ((1 - weight) * given + weight * p[b])
        return out
    if none_id is None:
        return attention.join(p[a], p[b], weight, "mean", 0)
    return attention.join(p[a], p[b], weight, "which", none_id)


def evaluate(runs, folds, arts, y_a, y_s, ntr, n_s, none_s, none_a) -> dict:
    """Rows: (stance probabilities, actor probabilities) recipes, scored out of fold and on the time split."""
    stance_rows = {"champion": ("champion", None)}
    stance_rows |= {f"{v} (alone)": (v, None) for v in STANCE_HEADS}
    stance_rows |= {f"champion + {v} (mean)": ("champion", v) for v in STANCE_HEADS}
    # added after the first run (its holder loss): the head says which stance, the champion whether
    stance_rows |= {f"champion + {v} (which stance only)": ("champion", v, none_s) for v in STANCE_HEADS}
    stance_rows |= {f"champion + {v} (which stance only)": ("champion", v, none_s) for v in BEARING_HEADS}
    # the weight the recipe took (0.5, set before the study) against others, in its form (one seed, which)
    one = "attention, 1 query, one seed"
    stance_rows |= {
        f"champion + {one} (which stance only, weight {w:g})": ("champion", one, none_s, w) for w in WEIGHTS
    }
    actor_rows = {"champion": ("champion", None)}
    actor_rows |= {f"{v} (alone)": (v, None) for v in ACTOR_HEADS}
    actor_rows |= {f"champion + {v} (mean)": ("champion", v) for v in ACTOR_HEADS}

    def predict(split: str, s_row: str, a_row: str):
        s = _mix(runs[split]["stance"], *stance_rows[s_row]).argmax(axis=1)
        a = _mix(runs[split]["actor"], *actor_rows[a_row]).argmax(axis=1)
        return np.where(s == none_s, none_a, a), s

    te_arts, te_a, te_s = arts[ntr:], y_a[ntr:], y_s[ntr:]
    ref_a, ref_s = predict("time", "champion", "champion")
    out = {"stance": {}, "actor": {}}

    def entry(s_row: str, a_row: str) -> dict:
        a_cv, s_cv, fold_of = np.zeros(ntr, int), np.zeros(ntr, int), np.zeros(ntr, int)
        for k, (_, te) in enumerate(folds):
            a_cv[te], s_cv[te] = predict(str(k), s_row, a_row)
            fold_of[te] = k
        a_t, s_t = predict("time", s_row, a_row)
        per_fold = [lv._f1(y_s[:ntr][fold_of == k], s_cv[fold_of == k], n_s) for k in range(len(folds))]
        e = {
            "cv_stance_macro_f1_fold_mean": float(np.mean(per_fold)),
            "cv_stance_macro_f1_fold_std": float(np.std(per_fold)),
        }
        e |= intervals.figures("cv", arts[:ntr], y_a[:ntr], y_s[:ntr], a_cv, s_cv, n_s, none_s)
        e |= intervals.figures("time", te_arts, te_a, te_s, a_t, s_t, n_s, none_s)
        bearing = te_s != none_s
        e["time_bearing_predicted_none"] = float((s_t[bearing] == none_s).mean())
        e = {k: round(v, 4) for k, v in e.items()}
        e["time_stance_macro_f1_minus_champion"] = [
            round(x, 4) for x in intervals.paired_difference(te_arts, te_s, ref_s, s_t, n_s)
        ]
        e["time_actor_e2e_minus_champion"] = [
            round(x, 4) for x in intervals.paired_e2e_difference(te_arts, te_a, te_s, ref_a, a_t, none_s)
        ]
        return e

    for s_row in stance_rows:
        out["stance"][s_row] = entry(s_row, "champion")
        print("stance", s_row, _brief(out["stance"][s_row]), flush=True)
    best_s = max(out["stance"], key=lambda k: out["stance"][k]["cv_stance_macro_f1_fold_mean"])
    for a_row in actor_rows:
        out["actor"][a_row] = entry("champion", a_row)
        print("actor", a_row, _brief(out["actor"][a_row]), flush=True)
    best_a = max(out["actor"], key=lambda k: out["actor"][k]["cv_actor_accuracy_e2e"])
    # the two targets together, as experiments/quality.py's stance-head study has read them since session 7
    both = max(
        out["stance"],
        key=lambda k: out["stance"][k]["cv_stance_macro_f1"] + out["stance"][k]["cv_actor_accuracy_e2e"],
    )
    out["chosen_by_cv"] = {"stance": best_s, "actor": best_a, "stance, by CV stance + CV actor e2e": both}
    out["chosen_together"] = entry(best_s, best_a)
    print("together", best_s, "|", best_a, _brief(out["chosen_together"]), flush=True)
    return out


def _brief(e: dict) -> str:
    keys = (
        "cv_stance_macro_f1_fold_mean",
        "cv_actor_accuracy_e2e",
        "time_stance_macro_f1",
        "time_actor_accuracy_e2e",
    )
    return json.dumps({k: e[k] for k in keys} | {k: e[k] for k in e if k.endswith("minus_champion")})


def render(r: dict) -> str:
    def iv(v, key):
        return f"{v[key]:.3f} [{v[key + '_lo']:.3f}, {v[key + '_hi']:.3f}]"

    def diff(d):
        return f"{d[0]:+.3f} [{d[1]:+.3f}, {d[2]:+.3f}]"

    head = (
        "| {} | CV: stance (fold mean ± std) | CV: actor e2e | time: stance macro-F1 | time: actor e2e "
        "| stance minus champion | actor e2e minus champion | stance-bearing predicted `none` |"
    )
    lines = [
        f"# Learned attention over the frozen encoder's tokens, joined with `{r['recipe']}` (stance and actor heads)",
        "",
        f"Data version {r['data_version']}, features of `{r['recipe']}`; grouped 5-fold CV over the 172 training "
        "articles (out of fold) and the time split (the 44 newest articles). Heads trained for a fixed number "
        f"of epochs, {r['seeds']} seeds averaged (one in the rows that say so); ensembles average the probabilities with the champion's at "
        f"weight {ENSEMBLE_WEIGHT}. Intervals: 90 % bootstrap by article; differences paired against the "
        "champion (first row). Features (the encoder's token states, once): "
        f"{r['feature_seconds']:.0f} s.",
        "",
    ]
    for facet, title in (
        ("stance", "stance head (actor head: the champion's)"),
        ("actor", "actor head (stances: the champion's)"),
    ):
        lines += [head.format(title), "|---" * 8 + "|"]
        for k, v in r[facet].items():
            lines.append(
                f"| {k} | {v['cv_stance_macro_f1_fold_mean']:.3f} ± {v['cv_stance_macro_f1_fold_std']:.3f} "
                f"| {iv(v, 'cv_actor_accuracy_e2e')} | {iv(v, 'time_stance_macro_f1')} "
                f"| {iv(v, 'time_actor_accuracy_e2e')} | {diff(v['time_stance_macro_f1_minus_champion'])} "
                f"| {diff(v['time_actor_e2e_minus_champion'])} | {v['time_bearing_predicted_none']:.2f} |"
            )
        lines.append("")
    c, t = r["chosen_by_cv"], r["chosen_together"]
    lines += [
        f"Chosen by grouped CV over the training articles: stance `{c['stance']}`, actor `{c['actor']}`. "
        f"Together: time-split stance {iv(t, 'time_stance_macro_f1')} "
        f"({diff(t['time_stance_macro_f1_minus_champion'])}), actor e2e {iv(t, 'time_actor_accuracy_e2e')} "
        f"({diff(t['time_actor_e2e_minus_champion'])}).",
        "",
        "By the issue's two targets together (pooled CV stance macro-F1 + CV actor e2e, the stance-head "
        f"study's second criterion): stance `{c['stance, by CV stance + CV actor e2e']}`.",
    ]
    return "\n".join(lines) + "\n"


if __name__ == "__main__":
    main()
