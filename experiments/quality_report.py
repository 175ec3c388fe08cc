"""result.md of the stance-head study (experiments/quality.py)."""

from __future__ import annotations


def _iv(v: dict, key: str) -> str:
    return f"{v[key]:.3f} [{v[key + '_lo']:.3f}, {v[key + '_hi']:.3f}]"


def _diff(d) -> str:
    return "" if d is None else f"{d[0]:+.3f} [{d[1]:+.3f}, {d[2]:+.3f}]"


def render(r: dict) -> str:
    lines = [
        f"# {r.get('title', 'Levers for the stance head')} on the time split",
        "",
        f"Data version {r['data_version']}, features of `{r['recipe']}` computed once "
        f"({r['feature_seconds']:.0f} s in the run that wrote this file; the embeddings come from "
        f"`.stance/cache/quality/` when a run before left them there): trained on {r['train_sentences']} sentences of the "
        f"{r['train_articles']} older articles, scored on {r['test_sentences']} sentences of the "
        f"{r['test_articles']} newest. Every choice (offsets, shift, C, weights) is made on the "
        "training articles only. Intervals: 90 % bootstrap by article; differences are paired (same "
        "resampled articles) against the first row decided by argmax (the recipe's own head). CV: grouped "
        "5-fold over the training articles, out of fold; a fitted decision rule is cross-fitted (fitted on "
        "the other folds' out-of-fold rows). `w`: embedding_weight; `none share`: the share of the test's "
        "stance-bearing sentences predicted `none`.",
        "",
        "| stance head | decision | CV macro-F1 (fold mean ± std) | CV pooled | CV actor e2e | time: stance macro-F1 "
        "| time: actor e2e | stance minus champion | actor e2e minus champion | none share |",
        "|---|---|---|---|---|---|---|---|---|---|",
    ]
    for key, v in r["variants"].items():
        head, _ = key.split(" | ")
        lines.append(
            f"| {head} | {v['decision']} "
            f"| {v['cv_stance_macro_f1_fold_mean']:.3f} ± {v['cv_stance_macro_f1_fold_std']:.3f} "
            f"| {_iv(v, 'cv_stance_macro_f1')} | {_iv(v, 'cv_actor_accuracy_e2e')} "
            f"| {_iv(v, 'time_stance_macro_f1')} "
            f"| {_iv(v, 'time_actor_accuracy_e2e')} "
            f"| {_diff(v.get('time_stance_macro_f1_minus_champion'))} "
            f"| {_diff(v.get('time_actor_e2e_minus_champion'))} | {v['time_bearing_predicted_none']:.2f} |"
        )
    lines += ["", "Chosen by grouped CV on the training articles (fold mean, never the test figure):", ""]
    lines += [f"- {lever}: `{key}`" for lever, key in r["chosen_by_cv"].items()]
    return "\n".join(lines) + "\n"
