"""Levers for the stance head, measured on the time split against the champion recipe (issue 11).

About a third of the stance-bearing sentences of new coverage are predicted ``none``,
and the stance head decides most of what a reader sees. Cheap levers, each fitted on
the *same* features of the same training articles (computed once: see
experiments/quality_levers.py) and scored on the time split (the 44 newest articles),
as the champion rule scores a run:

* **offsets**: per-class additive log-offsets on the stance probabilities, fitted to
  maximise macro-F1 on the out-of-fold predictions of grouped 5-fold CV over the
  *training* articles (applied to any head below);
* **both encoders**: all-MiniLM-L6-v2 embeddings beside all-mpnet-base-v2's;
* **C / embedding_weight** chosen by grouped CV over the training articles;
* **holder and actor cues in the stance head**: the actor head's cue and holder features;
* **binary head**: a second head for "is there a stance at all", joined with the
  five-class head, its log-odds shift fitted like the offsets
  (experiments/quality_bearing.py).

Every hyperparameter (offsets, shifts, C, weights) is chosen on the training
articles only; the 44 test articles only score. Each variant is compared with the
champion recipe (``configs/hybrid-mpnet.yaml``, argmax) by the 90 % paired bootstrap
interval by article (training/intervals.py). Grouped-CV figures: out-of-fold over the
training articles (offsets and shifts cross-fitted: fitted on the other folds'
out-of-fold predictions, applied to the held-out fold).

    .venv/bin/python experiments/quality.py [--recipe configs/hybrid-mpnet.yaml]
    .venv/bin/python experiments/quality.py --levers pooling

Writes experiments/quality/result.json and result.md (the README cites them). Other lever
sets (``--levers``), each into its own folder under experiments/: ``pooling`` (the cues
recipe's stance head with the frozen mpnet states pooled other ways: the mean of the last four
layers, layer 8, the maximum beside the mean), ``pooling-minilm`` (the fast recipe's head,
MiniLM's last four layers) and ``context`` (the previous sentence's vector beside the
sentence's own, in the last4 champion's head).
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from experiments import quality_levers as lv  # noqa: E402
from stance import paths  # noqa: E402
from training import intervals  # noqa: E402

OUT = ROOT / "experiments" / "quality"
MPNET, MINILM = "packaged:all-mpnet-base-v2", "packaged:all-MiniLM-L6-v2"
CHAMPION = "champion (C=4, w=3)"


def heads() -> dict[str, lv.StanceHead]:
    out = {CHAMPION: lv.StanceHead(((MPNET, 3.0),), 4.0)}  # first: every other row is compared with it
    # one axis at a time around the champion (C=4, w=3): a full grid costs twice the fits on 2 cores
    grid = [(1.0, 3.0), (16.0, 3.0), (4.0, 1.5), (4.0, 6.0), (4.0, 1.0), (4.0, 0.75)]
    out |= {f"C={c:g}, w={w:g}": lv.StanceHead(((MPNET, w),), c) for c, w in grid}
    out["both encoders (w=3 each)"] = lv.StanceHead(((MPNET, 3.0), (MINILM, 3.0)))
    out["+ holder and actor cues"] = lv.StanceHead(((MPNET, 3.0),), holder_cues=1.0)
    out["binary head"] = lv.StanceHead(((MPNET, 3.0),), binary=True)
    # the two actor levers on the weight grouped CV chose (1.5), alone and together (session 8)
    out["w=1.5 + holder and actor cues"] = lv.StanceHead(((MPNET, 1.5),), holder_cues=1.0)
    out["w=1.5, binary head"] = lv.StanceHead(((MPNET, 1.5),), binary=True)
    out["w=1.5 + holder and actor cues, binary head"] = lv.StanceHead(
        ((MPNET, 1.5),), holder_cues=1.0, binary=True
    )
    return out


CUES_CHAMPION = "champion: last layer's mean (w=1.5) + cues"


def pooling_heads() -> dict[str, lv.StanceHead]:
    """The shipped champion's stance head (configs/hybrid-mpnet-cues.yaml) with the mpnet embedding
    pooled other ways (experiments/quality_levers.py::pooled); weights set before the run."""
    cues = {"holder_cues": 1.0}
    return {
        CUES_CHAMPION: lv.StanceHead(((MPNET, 1.5),), **cues),
        "mean of the last 4 layers (w=1.5) + cues": lv.StanceHead(((f"{MPNET}@last4", 1.5),), **cues),
        "layer 8's mean (w=1.5) + cues": lv.StanceHead(((f"{MPNET}@layer8", 1.5),), **cues),
        "mean and max (w=1.5 each) + cues": lv.StanceHead(((MPNET, 1.5), (f"{MPNET}@max", 1.5)), **cues),
        "mean and max (w=1.06 each: same norm) + cues": lv.StanceHead(
            ((MPNET, 1.06), (f"{MPNET}@max", 1.06)), **cues
        ),
    }


LAST4 = f"{MPNET}@last4"
PREVIOUS = f"{LAST4} of the previous sentence"


def context_heads() -> dict[str, lv.StanceHead]:
    """The champion's stance head (configs/hybrid-mpnet-last4.yaml) with the previous sentence's
    vector beside the sentence's own (zero for an article's first sentence); weights set before the run."""
    cues = {"holder_cues": 1.0}
    return {
        "champion: the sentence's vector (last 4 layers, w=1.5) + cues": lv.StanceHead(
            ((LAST4, 1.5),), **cues
        ),
        "+ the previous sentence's vector, w=0.5": lv.StanceHead(((LAST4, 1.5), (PREVIOUS, 0.5)), **cues),
        "+ the previous sentence's vector, w=1": lv.StanceHead(((LAST4, 1.5), (PREVIOUS, 1.0)), **cues),
    }


def minilm_pooling_heads() -> dict[str, lv.StanceHead]:
    """The fast recipe's stance head (configs/hybrid.yaml: MiniLM at weight 3, no cues) with its
    sentence vector pooled the shipped way and over the last four of its six layers."""
    return {
        "hybrid (MiniLM): last layer's mean (w=3)": lv.StanceHead(((MINILM, 3.0),)),
        "hybrid (MiniLM): mean of the last 4 layers (w=3)": lv.StanceHead(((f"{MINILM}@last4", 3.0),)),
    }


# what a lever set studies: its heads, the encoders they read, the recipe whose features they
# share, where the results go, and the title of its report
LEVERS = {
    "stance-head": (heads, [MPNET, MINILM], "hybrid-mpnet.yaml", "quality", "Levers for the stance head"),
    "pooling": (
        pooling_heads,
        [MPNET, *(f"{MPNET}@{p}" for p in lv.STUDIED)],
        "hybrid-mpnet-cues.yaml",
        "quality-pooling",
        "Pooling the frozen mpnet encoder's states for the champion's stance head",
    ),
    "pooling-minilm": (
        minilm_pooling_heads,
        [MINILM, f"{MINILM}@last4"],
        "hybrid.yaml",
        "quality-pooling-minilm",
        "Pooling the frozen MiniLM encoder's states for the fast recipe's stance head",
    ),
    "context": (
        context_heads,
        [LAST4],
        "hybrid-mpnet-last4.yaml",
        "quality-context",
        "The previous sentence's vector in the champion's stance head",
    ),
}


def _five_class_twin(variants: dict, head: lv.StanceHead) -> str | None:
    """The variant with the same five-class head as a binary ``head`` (fitted first, so reused)."""
    for name, other in variants.items():
        if not other.binary and (other.encoders, other.C, other.holder_cues) == (
            head.encoders,
            head.C,
            head.holder_cues,
        ):
            return name
    return None


def run_splits(recipe, b, y_a, y_s, splits, variants, n_s, none_s, real, cache: Path):
    """Per split: the actor head's p(actor | a stance) and each variant's stance probabilities.

    Each split's results are pickled under ``cache`` as they come (a cut run resumes there); they
    are keyed by variant name, so delete the folder after changing what a variant means.
    """
    import pickle

    from training.models.base import full_proba

    out = {}
    for name, tr, te in splits:
        t0 = time.perf_counter()
        path = cache / f"split-{name}.pkl"
        done = pickle.loads(path.read_bytes()) if path.is_file() else {"stance": {}}
        tf_tr, tf_te = lv.split_features(recipe, b, tr, te)
        if "given" not in done:
            bearing = y_a[tr] != len(real)  # the none actor is the scheme's last
            actor = lv.logistic(recipe, recipe.C).fit(lv.actor_x(tf_tr, b, tr)[bearing], y_a[tr][bearing])
            done["given"] = full_proba(actor, lv.actor_x(tf_te, b, te), len(real))
        for v, head in variants.items():
            if v in done["stance"]:
                continue
            x_tr, x_te = lv.stance_x(tf_tr, b, tr, head), lv.stance_x(tf_te, b, te, head)
            twin = _five_class_twin(variants, head) if head.binary else None
            known = done["stance"][twin][0] if twin in done["stance"] else None  # same features, same head
            done["stance"][v] = lv.fit_stance(recipe, head, x_tr, y_s[tr], x_te, n_s, none_s, known)
            tmp = path.with_suffix(".tmp")
            tmp.write_bytes(pickle.dumps(done))
            tmp.replace(path)
            print(f"  split {name}, {v}: {time.perf_counter() - t0:.0f} s", flush=True)
        out[name] = (name, tr, te, done["given"], done["stance"])
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--levers", choices=sorted(LEVERS), default="stance-head")
    parser.add_argument("--recipe", type=Path, help="default: the lever set's recipe")
    parser.add_argument("--out", type=Path, help="default: the lever set's folder under experiments/")
    args = parser.parse_args()
    make_heads, encoders, recipe_name, out_name, title = LEVERS[args.levers]
    args.recipe = args.recipe or ROOT / "configs" / recipe_name
    args.out = args.out or ROOT / "experiments" / out_name

    st = lv.study(args.recipe)
    scheme, recipe, labels, texts, contexts = st.scheme, st.recipe, st.scheme.labels, st.texts, st.contexts
    none_s, n_s, real, y_a, y_s, arts, ntr = st.none_s, st.n_s, st.real, st.y_a, st.y_s, st.arts, st.ntr
    meta, folds, splits, n = {"data_version": st.version}, st.folds, st.splits(), len(texts)
    t0 = time.perf_counter()
    b = lv.blocks(recipe, scheme, texts, contexts, meta["data_version"], encoders)
    if args.levers == "context":
        b.embeddings[PREVIOUS] = lv.previous_vectors(b.embeddings[LAST4], texts, contexts)
    feature_s = time.perf_counter() - t0
    print(f"features: {feature_s:.0f} s", flush=True)
    variants = make_heads()
    suffix = "" if args.levers == "stance-head" else f"-{args.levers}"
    cache = paths.root() / ".stance" / "cache" / "quality" / f"{meta['data_version']}-splits{suffix}"
    cache.mkdir(parents=True, exist_ok=True)
    runs = run_splits(recipe, b, y_a, y_s, splits, variants, n_s, none_s, real, cache)
    cv_runs, (_, _, _, given_time, stance_time) = [runs[str(k)] for k in range(len(folds))], runs["time"]

    def predict(given, s_pred):
        return np.where(s_pred == none_s, labels.none_actor_id, given.argmax(axis=1)), s_pred

    result = {
        "data_version": meta["data_version"],
        "recipe": str(args.recipe.relative_to(ROOT) if args.recipe.is_relative_to(ROOT) else args.recipe),
        "train_sentences": ntr, "train_articles": len(set(arts[:ntr])),
        "test_sentences": n - ntr, "test_articles": len(set(arts[ntr:])),
        "feature_seconds": round(feature_s, 1), "title": title, "variants": {},
    }  # fmt: skip
    ref_a = ref_s = None
    for v, head in variants.items():
        # out-of-fold stance probabilities over the training articles, and each row's fold
        oof_p, oof_bear, fold_of, given_oof = (
            np.zeros((ntr, n_s)),
            np.zeros(ntr),
            np.zeros(ntr, int),
            np.zeros((ntr, len(real))),
        )
        for k, (_, _, te, given, stance) in enumerate(cv_runs):
            oof_p[te], fold_of[te], given_oof[te] = stance[v][0], k, given
            if head.binary:
                oof_bear[te] = stance[v][1]
        p_time, bear_time = stance_time[v]
        for decision in ("argmax", "fitted"):
            fit = _fitter(head, decision, none_s)
            # cross-fitted CV: each fold's decision rule fitted on the other folds' out-of-fold rows
            cv_pred = np.zeros(ntr, int)
            for k in range(len(cv_runs)):
                other, mine = fold_of != k, fold_of == k
                rule = fit(oof_p[other], oof_bear[other] if head.binary else None, y_s[:ntr][other])
                cv_pred[mine] = rule(oof_p[mine], oof_bear[mine] if head.binary else None)
            rule = fit(oof_p, oof_bear if head.binary else None, y_s[:ntr])
            s_time = rule(p_time, bear_time)
            a_cv, s_cv = predict(given_oof, cv_pred)
            a_time, s_time = predict(given_time, s_time)
            entry = _figures(arts, y_a, y_s, ntr, fold_of, a_cv, s_cv, a_time, s_time, n_s, none_s)
            entry["decision"] = getattr(rule, "describe", decision)
            if ref_s is None:
                ref_a, ref_s = a_time, s_time  # the champion recipe as `stance train` decides: argmax
            else:
                te_arts, te_a, te_s = arts[ntr:], y_a[ntr:], y_s[ntr:]
                d = intervals.paired_difference(te_arts, te_s, ref_s, s_time, n_s)
                e = lv.paired_e2e(te_arts, te_a, te_s, ref_a, a_time, none_s)
                entry["time_stance_macro_f1_minus_champion"] = [round(x, 4) for x in d]
                entry["time_actor_e2e_minus_champion"] = [round(x, 4) for x in e]
            result["variants"][f"{v} | {decision}"] = entry
            print(
                v,
                decision,
                json.dumps({k: entry[k] for k in entry if "lo" not in k and "hi" not in k}),
                flush=True,
            )
    result["chosen_by_cv"] = (
        _choose(result["variants"]) if args.levers == "stance-head" else _choose_any(result["variants"])
    )
    args.out.mkdir(parents=True, exist_ok=True)
    _write(args.out / "result.json", json.dumps(result, indent=2) + "\n")
    from experiments.quality_report import render

    _write(args.out / "result.md", render(result))
    print(f"-> {args.out / 'result.json'}, {args.out / 'result.md'}")


def _fitter(head: lv.StanceHead, decision: str, none_s: int):
    """fit(p, p_bearing, y) -> rule(p, p_bearing) -> stance ids."""

    def fit(p, bear, y):
        if decision == "argmax":
            rule = lambda q, r: lv.decide(q, r, none_s)  # noqa: E731
            rule.describe = "argmax" if not head.binary else "shift +0.0"
        elif head.binary:
            from experiments import quality_bearing

            t = quality_bearing.fit_shift(p, bear, y, none_s)
            rule = lambda q, r: lv.decide(q, r, none_s, bearing_shift=t)  # noqa: E731
            rule.describe = f"shift {t:+.1f}"
        else:
            off = lv.fit_offsets(p, y, none_s)
            rule = lambda q, r: lv.decide(q, r, none_s, off)  # noqa: E731
            rule.describe = "offsets " + " ".join(f"{x:+.1f}" for x in off)
        return rule

    return fit


def _figures(arts, y_a, y_s, ntr, fold_of, a_cv, s_cv, a_time, s_time, n_s, none_s) -> dict:
    out = {}
    folds = [lv._f1(y_s[:ntr][fold_of == k], s_cv[fold_of == k], n_s) for k in range(fold_of.max() + 1)]
    out["cv_stance_macro_f1_fold_mean"], out["cv_stance_macro_f1_fold_std"] = (
        float(np.mean(folds)),
        float(np.std(folds)),
    )
    out |= intervals.figures("cv", arts[:ntr], y_a[:ntr], y_s[:ntr], a_cv, s_cv, n_s, none_s)
    out |= intervals.figures("time", arts[ntr:], y_a[ntr:], y_s[ntr:], a_time, s_time, n_s, none_s)
    bearing = y_s[ntr:] != none_s
    out["time_bearing_predicted_none"] = float((s_time[bearing] == none_s).mean())
    return {k: round(v, 4) for k, v in out.items()}


def _choose(variants: dict) -> dict:
    """The grouped-CV choice over the training articles (fold mean), per lever: never the test figure."""
    grid = {k: v for k, v in variants.items() if k.startswith(("C=", "champion")) and k.endswith("argmax")}
    both = {k: v for k, v in variants.items() if k.startswith("both") and k.endswith("argmax")}
    best = {k: v for k, v in variants.items()}
    pick = lambda d: max(d, key=lambda k: d[k]["cv_stance_macro_f1_fold_mean"])  # noqa: E731
    # the two targets together: the mean of pooled CV stance macro-F1 and actor e2e
    both_targets = max(best, key=lambda k: best[k]["cv_stance_macro_f1"] + best[k]["cv_actor_accuracy_e2e"])
    return {
        "C and embedding_weight": pick(grid),
        "both encoders": pick(both),
        "any variant": pick(best),
        "any variant, by the mean of CV stance macro-F1 and CV actor e2e": both_targets,
    }


def _choose_any(variants: dict) -> dict:
    """The grouped-CV choice over the training articles (fold mean), argmax rows and any row."""
    pick = lambda d: max(d, key=lambda k: d[k]["cv_stance_macro_f1_fold_mean"])  # noqa: E731
    return {
        "argmax": pick({k: v for k, v in variants.items() if k.endswith("argmax")}),
        "any variant": pick(variants),
    }


def _write(path: Path, text: str) -> None:
    tmp = path.with_suffix(path.suffix + ".tmp")
    tmp.write_text(text)
    tmp.replace(path)


if __name__ == "__main__":
    main()
