"""The champion rule, in one place: ``stance train`` (tracking.crown) and ``stance promote`` ask it.

The figure: **stance macro-F1 on the time split** (trained on the older articles,
scored on the newest), because it is the question a user asks of new coverage and
grouped CV over 35 articles could not see the gain that mattered there (issue 11:
all-mpnet-base-v2 moved CV by +0.008 and held-out new coverage by +0.08).

The margin: a challenger takes ``champion`` only when it beats the champion on the
*same* time-split test sentences with the 90 % paired bootstrap interval by article
of the difference (challenger minus champion) entirely above zero. Pairing scores
both models on the same resampled articles, so an easy or a hard article moves both
and cancels out; what remains is the evidence that one is better, not noise.

A run without time-split predictions never takes ``champion``. A champion without
them (logged before the time split existed) cannot defend its place: the first run
that has them takes it.
"""

from __future__ import annotations

import json
import tempfile
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from training import intervals
from training.timesplit import PREDICTIONS

FIGURE = "time_stance_macro_f1"


@dataclass(frozen=True)
class Verdict:
    promote: bool
    why: str


@dataclass(frozen=True)
class Predictions:
    """A run's time-split test sentences: id -> (article, true stance, predicted stance)."""

    rows: dict[str, tuple[str, str, str]]

    @classmethod
    def from_jsonl(cls, text: str) -> Predictions:
        rows = {}
        for line in text.splitlines():
            if line.strip():
                r = json.loads(line)
                rows[r["sentence_id"]] = (r["article"], r["true"][1], r["predicted"][1])
        return cls(rows)


def predictions(run) -> Predictions | None:
    """The time-split predictions logged on an MLflow run, or None when it has none."""
    import mlflow
    from mlflow.exceptions import MlflowException

    with tempfile.TemporaryDirectory() as tmp:
        try:
            local = mlflow.artifacts.download_artifacts(
                run_id=run.info.run_id, artifact_path=PREDICTIONS, dst_path=tmp
            )
        except (MlflowException, OSError):
            return None
        return Predictions.from_jsonl(Path(local).read_text(encoding="utf-8"))


def rule(challenger: Predictions | None, champion: Predictions | None, labels: list[str]) -> Verdict:
    """The rule of the module docstring on two runs' time-split predictions (``labels``: the stances)."""
    if not challenger or not challenger.rows:
        return Verdict(False, "it has no time-split predictions, and a run without them never takes champion")
    if champion is None:
        return Verdict(True, "there is no champion yet")
    if not champion.rows:
        return Verdict(True, "the champion has no time-split predictions to defend its place with")
    if set(challenger.rows) != set(champion.rows):
        return Verdict(
            False,
            f"its time-split test sentences ({len(challenger.rows)}) are not the champion's "
            f"({len(champion.rows)}); runs on different test sets are not compared",
        )
    ids = sorted(challenger.rows)
    index = {label: i for i, label in enumerate(labels)}
    articles = [challenger.rows[i][0] for i in ids]
    truth = [index[challenger.rows[i][1]] for i in ids]
    ours = [index[challenger.rows[i][2]] for i in ids]
    theirs = [index[champion.rows[i][2]] for i in ids]
    point, lo, hi = intervals.paired_difference(articles, truth, theirs, ours, len(labels))
    n = len(set(articles))
    score = float(intervals.macro_f1(_confusion(truth, ours, len(labels))))
    facts = (
        f"time-split stance macro-F1 {score:.3f} against the champion's {score - point:.3f}: {point:+.3f}, "
        f"90% paired interval by article [{lo:+.3f}, {hi:+.3f}] over {n} articles"
    )
    if lo > 0:
        return Verdict(True, f"{facts}, above zero")
    return Verdict(False, f"{facts}, not above zero: no clear gain")


def _confusion(truth, pred, n: int) -> np.ndarray:
    m = np.zeros((n, n))
    np.add.at(m, (truth, pred), 1)
    return m


def judge(challenger_run, reference_run, labels: list[str]) -> Verdict:
    """The rule on two MLflow runs: the challenger's, and the champion's (or its stand-in's)."""
    if reference_run is not None:
        theirs = reference_run.data.tags.get("data_version")
        ours = challenger_run.data.tags.get("data_version")
        if theirs != ours:
            return Verdict(
                False, f"the champion was evaluated on data {theirs}, this run on {ours}; not comparable"
            )
    champ = (predictions(reference_run) or Predictions({})) if reference_run is not None else None
    return rule(predictions(challenger_run), champ, labels)
