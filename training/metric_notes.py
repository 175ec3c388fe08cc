"""What each metric of a training run is, in one line: the run's ``metrics.md``.

A metric's name says its figure and where it was measured, but not in words an engineer reading the
run page can take in: ``stance_macro_f1`` is grouped CV's mean over the folds, ``stance_f1_demand``
beside it is pooled over every out-of-fold prediction, ``cv_stance_macro_f1`` pooled too. The tables
below are the one place that says so; :func:`note` reads a name through them, and :func:`markdown`
writes every metric of a run with its value and its line.
"""

from __future__ import annotations

import re

REFERENCE = "metrics.md"  # the run's artifact
WRITTEN_HERE = "training/metric_notes.py"

# a figure, in words: a metric's name without the scope that says where it was measured (below)
FIGURES = {
    "stance_macro_f1": "stance macro-F1 (F1 of each stance class, `none` included, averaged)",
    "stance_accuracy": "stance accuracy",
    "actor_macro_f1": "actor macro-F1 (F1 of each actor class, `none` included, averaged)",
    "actor_accuracy": "actor accuracy over every sentence",
    "actor_accuracy_stance_bearing": "actor accuracy on the labeled stance-bearing sentences (the "
    "best real actor, whatever stance was called)",
    "stance_ece": "expected calibration error of the stance probabilities (lower: p means what it says)",
    "stance_ece_pooled": "expected calibration error of the stance probabilities, the reliability plot's",
    "actor_accuracy_e2e": "actor accuracy end to end: of the labeled stance-bearing sentences, the share "
    "whose predicted actor is the labeled holder",
    "actor_precision_e2e": "actor precision end to end: of the sentences called stance-bearing, the share "
    "labeled stance-bearing with the predicted actor as holder",
    "p90_share": "share of the sentences whose pair confidence p is at least 0.9",
    "p90_accuracy": "pair (actor and stance) accuracy among the sentences with p ≥ 0.9",
    "profile_pair_precision": "article profiles: of the (actor, stance) pairs predicted per article, the "
    "share labeled in that article",
    "profile_pair_recall": "article profiles: of the (actor, stance) pairs labeled per article, the share "
    "predicted",
    "profile_pair_f1": "article profiles: F1 of profile_pair_precision and profile_pair_recall",
    "articles": "articles scored",
    "sentences": "sentences scored",
}
CLASS_FIGURE = re.compile(r"(?P<facet>actor|stance)_(?P<what>precision|recall|f1|support)_(?P<label>.+)")
CLASS_WORDS = {"precision": "precision", "recall": "recall", "f1": "F1", "support": "labeled sentences"}

# the scopes in two lines, for the run's description and its metrics.md
SUMMARY = (
    "unprefixed, grouped CV's mean over the folds (`…_std` their spread, `…_foldN` one fold, `fold_…` "
    "one step a fold), except the per-class, `profile_pair_…` and `stance_ece_pooled` figures, which "
    "are pooled like `cv_…` (every out-of-fold prediction at once); `time_…` the time split, "
    "`rolling_…` the rolling origin; `…_lo`, `…_hi` a 90 % bootstrap interval by article; timings "
    "(`…_seconds`) and what the final fit chose (`fitted_…`, …) are the run's own."
)
POOLED = "grouped CV, pooled: every sentence's out-of-fold prediction at once"
ROLLING = (
    "rolling origin: the time split and the older blocks, each scored by a model trained on its past, pooled"
)
# where a figure was measured, as its name says it: the first pattern that matches the whole name
SCOPES = (
    (r"cv_(?P<f>.+)", POOLED),
    (r"time_(?P<f>.+)", "time split: a model trained on the older articles, scored on the newest"),
    (
        r"rolling_new_outlet_(?P<f>.+)",
        "rolling origin, only the articles from outlets their block's model never trained on",
    ),  # fmt: skip
    # the champion rule reads two of the rolling origin's figures, not all (every one said it did)
    (r"rolling_(?P<f>stance_macro_f1|actor_accuracy_e2e)", f"{ROLLING} (the champion rule's figure)"),
    (r"rolling_(?P<f>actor_precision_e2e)", f"{ROLLING} (reported; not a figure of the champion rule)"),
    (r"rolling_(?P<f>.+)", ROLLING),
    (r"fold_(?P<f>.+)", "grouped CV, one step a fold (the chart; the run page shows the last fold's)"),
    (r"(?P<f>.+)_fold(?P<n>\d+)", "grouped CV, fold {n} alone"),
    (r"(?P<f>.+)_std", "grouped CV: standard deviation over the folds"),
    (r"(?P<f>(actor|stance)_(precision|recall|f1|support)_.+|profile_pair_.+|stance_ece_pooled)", POOLED),
    (r"(?P<f>.+)", "grouped CV: mean over the folds"),
)
INTERVAL = {"lo": "low", "hi": "high"}

# metrics of the run itself, no figure of a scope
RUN = {
    "cv_seconds": "seconds grouped CV took (its fits and scoring)",
    "time_seconds": "seconds the time split took (its fit and scoring)",
    "rolling_seconds": "seconds the rolling origin's older blocks took (their fits and scoring)",
    "rolling_blocks": "blocks the rolling origin pools (the time split and the older ones)",
    "train_seconds": "seconds the final fit on all the run's sentences took",
    "train_sentences": "training sentences of a grouped-CV fold, mean over the folds (the learning "
    "curve's axis; the final fit trains on all the run's `sentences`, a param)",
    "fitted_attention_temperature": "final fit: the temperature the attention head's logits are divided "
    "by (1: none fitted; the param attention_temperature says whether to fit one)",
    "none_scale": "final fit: the scale of p(none) that `none_prior: fit` chose",
    "actor_stance_exponent": "final fit: the exponent of the actor_stance_prior (fitted or given)",
}
MEMBER = re.compile(r"member(?P<i>\d+)_(?P<rest>.+)")  # a blend's member's own fit metric
EPOCHS = re.compile(r"(?P<fit>fold\d+|final)_(?P<rest>.+)")  # a fine-tune's per-epoch log


def note(name: str) -> str | None:
    """``name``'s line: its figure and where it was measured; None for a name the tables lack."""
    if name in RUN:
        return RUN[name]
    if m := MEMBER.fullmatch(name):
        inner = note(m["rest"])
        return inner and f"blend member {m['i']}: {inner}"
    if m := re.fullmatch(r"(?P<base>.+)_(?P<end>lo|hi)", name):
        inner = note(m["base"])
        return inner and f"{inner}; {INTERVAL[m['end']]} end of its 90 % bootstrap interval by article"
    for pattern, where in SCOPES:
        if (m := re.fullmatch(pattern, name)) and (figure := _figure(m["f"])):
            return f"{figure}. {where.format(**m.groupdict())}"
    if m := EPOCHS.fullmatch(name):
        fit = "the final fit" if m["fit"] == "final" else f"CV fit {m['fit'].removeprefix('fold')}"
        return f"fine-tune: {m['rest'].replace('_', ' ')} of {fit}, one step an epoch"
    return None


def _figure(name: str) -> str | None:
    if name in FIGURES:  # before the classes: actor_precision_e2e is no class `e2e`
        return FIGURES[name]
    if m := CLASS_FIGURE.fullmatch(name):
        return f"{m['facet']} {CLASS_WORDS[m['what']]} of the class `{m['label']}`"
    return None


def markdown(metrics: dict[str, float]) -> str:
    """A run's metrics, each with its value and its line (a name the tables lack says so)."""
    lines = [
        "# What each metric of this run is",
        "",
        SUMMARY[0].upper() + SUMMARY[1:],
        "",
        "| metric | value | what it is |",
        "|---|---|---|",
    ]
    for name in sorted(metrics):
        line = note(name) or f"not described yet: add it to {WRITTEN_HERE}"
        lines.append(f"| `{name}` | {metrics[name]:.4g} | {line} |")
    return "\n".join(lines) + "\n"


def log(run_id: str) -> None:
    """Write the run's metrics as they stand with their lines to its ``metrics.md``."""
    from mlflow import MlflowClient

    client = MlflowClient()
    client.log_text(run_id, markdown(client.get_run(run_id).data.metrics), REFERENCE)
