"""A run's figures in words: the lines `stance train` prints, the run's description (MLflow's run
page shows it first) and the tags that tell registered versions apart. ``stance train``
(training/train.py) writes them when a run is judged, or when an interrupted run's judging is
finished; the words are the same either way, since both come from here."""

from __future__ import annotations

from pathlib import Path

from training import metric_notes, novelty, registry, tracking

FIGURE_LINES = {
    "time": "time split ({articles:.0f} newest articles, {sentences:.0f} sentences)",
    "rolling": "rolling origin ({blocks:.0f} blocks, {articles:.0f} articles, each from its past)",
    novelty.PREFIX: "  of them, from outlets their model never trained on ({articles:.0f} articles)",
}
PRINTED = ("cv", "time", "rolling", novelty.PREFIX)  # `stance train`'s order
DESCRIBED = ("rolling", novelty.PREFIX, "time", "cv")  # the champion rule's figure first


def figure_lines(m: dict[str, float], cv_folds: int, order=PRINTED) -> list[str]:
    """A run's figures, one line each, as `stance train` prints them and the run's description
    gives them: grouped CV, the time split, the rolling origin and its new-outlet articles (each
    where the run has it), in ``order``."""
    stance = f"stance macro-F1 {m['stance_macro_f1']:.3f} ± {m['stance_macro_f1_std']:.3f} by fold"
    if "cv_actor_accuracy_e2e" in m:  # the figure the split lines give (and the target's)
        actor = (
            f"actor accuracy end to end {m['cv_actor_accuracy_e2e']:.3f} "
            f"[{m['cv_actor_accuracy_e2e_lo']:.3f}, {m['cv_actor_accuracy_e2e_hi']:.3f}] pooled"
        )
    else:  # a run logged before the pooled figures: actor accuracy over every sentence
        actor = f"actor accuracy {m['actor_accuracy']:.3f} ± {m['actor_accuracy_std']:.3f} by fold"
    lines = {"cv": f"{stance}, {actor} (grouped {cv_folds}-fold CV by article)"}
    for prefix, what in FIGURE_LINES.items():
        if f"{prefix}_stance_macro_f1" not in m:
            continue
        lines[prefix] = (
            what.format(
                articles=m[f"{prefix}_articles"], sentences=m[f"{prefix}_sentences"],
                blocks=m.get("rolling_blocks", 0),
            )
            + ": "
            + ", ".join(
                f"{label} {m[f'{prefix}_{k}']:.3f} [{m[f'{prefix}_{k}_lo']:.3f}, {m[f'{prefix}_{k}_hi']:.3f}]"
                for k, label in (
                    ("stance_macro_f1", "stance macro-F1"),
                    ("actor_accuracy_e2e", "actor accuracy end to end"),
                    ("actor_precision_e2e", "actor precision end to end"),
                )
                if f"{prefix}_{k}" in m
            )
            + " (90% bootstrap intervals by article)"
        )  # fmt: skip
    return [lines[k] for k in order if k in lines]


def figure_bullets(m: dict[str, float], cv_folds: int) -> list[str]:
    """The figures as a Markdown list, the champion rule's first, as a run's description and its
    registered version's give them (the new-outlet line nests under the rolling origin's)."""
    return [
        f"{'  ' if line.startswith(' ') else ''}- {line.strip()}"
        for line in figure_lines(m, cv_folds, DESCRIBED)
    ]


def describe(
    run_id: str, recipe_path: Path, recipe, meta: dict, summary: dict, decision: str, spec: str | None = None
) -> None:
    """The run's description (MLflow's run page shows it first): what was trained on which data,
    its figures as `stance train` prints them, the rolling origin's first (the figure the champion
    rule reads; the page folds all but the first lines), what its metrics' names say (each in words in
    its ``metrics.md``, written here: the run's metrics are all logged by now), an experiment's own
    words on the run (``spec``: what it asks, the entry, each override and its reason), and what
    became of its model."""
    text = "\n".join(
        [
            f"**{Path(recipe_path).stem}** ({recipe.kind}) on data version {meta['data_version']}.",
            "",
            *figure_bullets(summary, recipe.cv_folds),
            "",
            METRICS_LINE,
            "",
            *([spec, ""] if spec else []),
            f"Model at training: {decision}",
        ]
    )
    registry.tag_run(run_id, tracking.NOTE, text)
    metric_notes.log(run_id)


METRICS_LINE = f"Metrics: {metric_notes.SUMMARY} Each in words: `{metric_notes.REFERENCE}` (artifacts)."


# a registered version's figure tags: tag -> the run's metric. Each tag is its metric's name but
# one: grouped CV's `actor_accuracy` (over every sentence) is `actor_accuracy_every_sentence`, since
# beside the version's description, whose actor figure is accuracy end to end (`cv_actor_accuracy_e2e`,
# a tag too), a tag `actor_accuracy` read as that figure (versions registered before session 47 carry
# it so; nothing reads these tags back: the champion rule and promote read the runs' metrics)
VERSION_FIGURES = {
    "rolling_stance_macro_f1": "rolling_stance_macro_f1",
    "rolling_actor_accuracy_e2e": "rolling_actor_accuracy_e2e",
    "stance_macro_f1": "stance_macro_f1",
    "stance_macro_f1_std": "stance_macro_f1_std",
    "cv_actor_accuracy_e2e": "cv_actor_accuracy_e2e",
    "actor_accuracy_every_sentence": "actor_accuracy",
    "stance_ece": "stance_ece",
}


def version_tags(recipe, tags: dict[str, str], summary: dict[str, float]) -> dict[str, str]:
    """What tells registered versions apart on the registry page."""
    out = {k: tags[k] for k in ("recipe", "kind", "data_version", "recipe_hash", "git_commit") if k in tags}
    if encoder := getattr(recipe, "base_model", None):
        out["encoder"] = str(encoder)
    for tag, metric in VERSION_FIGURES.items():
        if metric in summary:
            out[tag] = f"{summary[metric]:.4f}"
    return out
