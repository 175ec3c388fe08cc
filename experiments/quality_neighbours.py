"""What the sentences before say about a sentence's stance: a second stage over the first's (issue 11, session 21).

Stances come in runs: an article about Turkey's mediation mission tells it over several
sentences ("Erdoğan confirmed his ministers will travel to Islamabad ...", "the delegation is
scheduled to arrive this week ...", "the mission's primary objective ..."), and on the time
split the champion calls several of them `none` one at a time (p(none) 0.5 to 0.8). Session 10
put the previous sentence's encoder vector beside the sentence's own and lost stance (−0.029);
this study passes on far less: what the first stage *decided* about the sentences before.

Stage 1 is the champion recipe's stance head as the studies fit it (TF-IDF, the frozen mpnet
vector over its last four layers at weight 1.5, the actor-name cues and holder features; no
attention head), out of fold on the training articles (the grouped CV folds) and fitted on all
of them for the time split's test articles. Stage 2 is a logistic regression over five-class
blocks: the sentence's own log-probabilities; the mean and the maximum of the stance
probabilities of the up to five sentences before it in the article (what the model's
``context`` column carries); and a flag for the article's first sentence (usually its
headline). A control row fits stage 2 on the sentence's own log-probabilities and the flag
alone, so what the sentences before add is read against it, not against stage 1's argmax (a
second logistic regression re-weighs the classes by itself). Stage 2 is fitted on the training articles' out-of-fold rows; its CV figure is
cross-fitted (fitted on the other folds' rows), so neither figure saw its own sentences.

    .venv/bin/python experiments/quality_neighbours.py

Writes experiments/quality-neighbours/result.json and result.md.
"""

from __future__ import annotations

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
from experiments.quality import LAST4, _write  # noqa: E402
from training import intervals  # noqa: E402

OUT = ROOT / "experiments" / "quality-neighbours"
RECIPE = ROOT / "configs" / "hybrid-mpnet-broker.yaml"
BEFORE = 5  # sentences before (training/context.py::CONTEXT_SENTENCES)
STAGE2_C = 1.0  # set before the run
VARIANTS = {  # name -> the blocks stage 2 reads beside the sentence's own log-probabilities
    "stage 1 alone (argmax)": None,
    "control: stage 2 on the sentence's own log-probabilities and the first-sentence flag": (),
    "+ the sentences before: mean and maximum": ("mean", "max"),
    "+ the sentence before alone": ("previous",),
}


def neighbour_blocks(p: np.ndarray, arts: np.ndarray, which: tuple[str, ...]) -> np.ndarray:
    """Row i's blocks over the up to BEFORE rows before it of the same article (rows in article order)."""
    n, k = p.shape
    out = []
    for i in range(n):
        j = i
        while j > 0 and i - j < BEFORE and arts[j - 1] == arts[i]:
            j -= 1
        prev = p[j:i]
        row = [
            np.zeros(k) if not len(prev) else getattr(np, name)(prev, axis=0)
            for name in which
            if name != "previous"
        ]
        if "previous" in which:
            row.append(prev[-1] if len(prev) else np.zeros(k))
        first = float(j == i)  # no sentence before: the article's first (its headline, mostly)
        out.append(np.concatenate([*row, [first]]))
    return np.asarray(out)


def stage2_x(p: np.ndarray, arts: np.ndarray, which) -> np.ndarray:
    return np.hstack([np.log(np.clip(p, 1e-9, None)), neighbour_blocks(p, arts, which)])


def main() -> None:
    from sklearn.linear_model import LogisticRegression

    from training.models.base import full_proba

    st = lv.study(RECIPE)
    recipe, none_s, n_s, ntr = st.recipe, st.none_s, st.n_s, st.ntr
    b = lv.blocks(recipe, st.scheme, st.texts, st.contexts, st.version, [LAST4])
    head = lv.StanceHead(((LAST4, recipe.embedding_weight),), recipe.C, holder_cues=recipe.stance_cues_weight)
    k = len(st.real)

    p1 = np.zeros(
        (len(st.texts), n_s)
    )  # stage 1: out of fold on the training rows, fitted on them for the test
    best_actor = np.zeros(len(st.texts), int)
    for name, tr, te in st.splits():
        t0 = time.perf_counter()
        tf_tr, tf_te = lv.split_features(recipe, b, tr, te)
        p1[te], _ = lv.fit_stance(
            recipe,
            head,
            lv.stance_x(tf_tr, b, tr, head),
            st.y_s[tr],
            lv.stance_x(tf_te, b, te, head),
            n_s,
            none_s,
        )
        best_actor[te] = lv.fit_actor(
            recipe, lv.actor_x(tf_tr, b, tr), st.y_a[tr], lv.actor_x(tf_te, b, te), k
        ).argmax(axis=1)
        print(f"stage 1, split {name}: {time.perf_counter() - t0:.0f} s", flush=True)

    tr_rows, te_rows = np.arange(ntr), np.arange(ntr, len(st.texts))
    fold_of = np.zeros(ntr, int)
    for f, (_, te) in enumerate(st.folds):
        fold_of[np.asarray(te)] = f

    def stage2(which, fit_rows, score_rows):
        clf = LogisticRegression(C=STAGE2_C, class_weight="balanced", max_iter=3000, random_state=recipe.seed)
        x = stage2_x(p1, st.arts, which)
        clf.fit(x[fit_rows], st.y_s[fit_rows])
        return full_proba(clf, x[score_rows], n_s).argmax(axis=1)

    result = {"data_version": st.version, "recipe": str(RECIPE.relative_to(ROOT)), "variants": {}}
    te_arts, te_a, te_s = st.arts[ntr:], st.y_a[ntr:], st.y_s[ntr:]
    decided = {}
    for v, which in VARIANTS.items():
        if which is None:
            s_cv, s_time = p1[:ntr].argmax(axis=1), p1[ntr:].argmax(axis=1)
        else:
            s_cv = np.zeros(ntr, int)
            for f in range(len(st.folds)):
                s_cv[fold_of == f] = stage2(which, tr_rows[fold_of != f], tr_rows[fold_of == f])
            s_time = stage2(which, tr_rows, te_rows)
        decided[v] = s_time
        a_cv = np.where(s_cv == none_s, st.scheme.labels.none_actor_id, best_actor[:ntr])
        a_time = np.where(s_time == none_s, st.scheme.labels.none_actor_id, best_actor[ntr:])
        entry = intervals.figures("cv", st.arts[:ntr], st.y_a[:ntr], st.y_s[:ntr], a_cv, s_cv, n_s, none_s)
        entry |= intervals.figures("time", te_arts, te_a, te_s, a_time, s_time, n_s, none_s)
        ref = decided["stage 1 alone (argmax)"]
        if v != "stage 1 alone (argmax)":
            entry["time_stance_minus_stage1"] = list(
                intervals.paired_difference(te_arts, te_s, ref, s_time, n_s)
            )
            a_ref = np.where(ref == none_s, st.scheme.labels.none_actor_id, best_actor[ntr:])
            entry["time_actor_e2e_minus_stage1"] = list(
                intervals.paired_e2e_difference(te_arts, te_a, te_s, a_ref, a_time, none_s)
            )
        entry["time_bearing_called_none"] = float(
            ((s_time == none_s) & (te_s != none_s)).sum() / (te_s != none_s).sum()
        )
        result["variants"][v] = {
            key: (
                round(x, 4)
                if isinstance(x, float)
                else [round(y, 4) for y in x]
                if isinstance(x, list)
                else x
            )
            for key, x in entry.items()
        }
        print(
            v,
            json.dumps(
                {key: x for key, x in result["variants"][v].items() if "_lo" not in key and "_hi" not in key}
            ),
            flush=True,
        )
    OUT.mkdir(parents=True, exist_ok=True)
    _write(OUT / "result.json", json.dumps(result, indent=2) + "\n")
    _write(OUT / "result.md", render(result))
    print(f"-> {OUT / 'result.md'}")


def render(r: dict) -> str:
    def iv(v, key):
        return f"{v[key]:.3f} [{v[key + '_lo']:.3f}, {v[key + '_hi']:.3f}]"

    def diff(d):
        return "" if d is None else f"{d[0]:+.3f} [{d[1]:+.3f}, {d[2]:+.3f}]"

    lines = [
        "# A second stage over what the first decided about the sentences before",
        "",
        f"Data version {r['data_version']}, stage 1: the stance head of `{r['recipe']}` as the studies fit it (no "
        "attention head). CV: grouped 5-fold over the 172 training articles, stage 2 cross-fitted. Time split: the 44 "
        "newest articles. Holders: the recipe's actor head in every row. Intervals: 90 % bootstrap by article; "
        "differences paired against stage 1 alone.",
        "",
        "| stance decision | CV: stance macro-F1 | CV: actor e2e | time: stance macro-F1 | time: actor e2e | "
        "time: stance minus stage 1 | time: actor e2e minus stage 1 | time: stance-bearing called none |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for v, x in r["variants"].items():
        lines.append(
            f"| {v} | {iv(x, 'cv_stance_macro_f1')} | {iv(x, 'cv_actor_accuracy_e2e')} | "
            f"{iv(x, 'time_stance_macro_f1')} | {iv(x, 'time_actor_accuracy_e2e')} | "
            f"{diff(x.get('time_stance_minus_stage1'))} | {diff(x.get('time_actor_e2e_minus_stage1'))} | "
            f"{x['time_bearing_called_none']:.2f} |"
        )
    return "\n".join(lines) + "\n"


if __name__ == "__main__":
    main()
