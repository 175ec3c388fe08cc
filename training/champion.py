"""The champion rule, in one place: ``stance train`` (tracking.crown) and ``stance promote`` ask it.

The figures: **stance macro-F1 and actor accuracy end to end on the time split**
(trained on the older articles, scored on the newest), because they are the question
a user asks of new coverage (which stance, and who holds it) and grouped CV over 35
articles could not see the gain that mattered there (issue 11: all-mpnet-base-v2 moved
CV by +0.008 and held-out new coverage by +0.08). Actor accuracy end to end counts the
labeled stance-bearing sentences, each right only when the predicted actor is its
labeled one (so a stance missed as ``none`` loses its holder too).

The margin: a challenger takes ``champion`` only when, on the *same* time-split test
sentences, it beats the champion on one figure with the 90 % paired bootstrap interval
by article of the difference (challenger minus champion) entirely above zero **and** the
one-sided sign-flip permutation p by article of that difference below 0.05, and is
not clearly worse on the other (that difference's interval not entirely below zero).
Pairing scores both models on the same resampled articles, so an easy or a hard
article moves both and cancels out; what remains is the evidence that one is better,
not noise. The permutation test guards the refit case: two runs that differ on a
handful of sentences in a few articles (the TTP cue fix changed 11 of 507 decisions)
have a narrow paired interval that can sit just above zero ([+0.000, +0.019] there),
yet a gain confined to k articles is matched by about one random swap in 2^k, so its
p is about 2^-k (0.06 for four articles) and it does not pass. The verdict gives both
p-values and on how many sentences and articles the two runs' decisions differ.
Stance macro-F1 is the figure reported first and the one runs are ranked by
(``tracking.SELECTION_METRICS``); a rule on stance alone could never prefer a model that finds holders
better, which is half of the question.

**Which predictions.** When both runs carry the rolling origin's predictions on the same
sentences (``timesplit.ROLLING``: the time split and the older blocks, each block scored by a
model fitted only on the articles older than it; training/timesplit.py), the rule reads those,
pooled: three times the articles and three eras, so a lever fitted to the newest era does not
pass for a gain on new coverage (session 22: two levers kept on the time split alone did not
hold at the older origins; README, "Rolling origin"). Otherwise (a champion logged before the
rolling origin, a dataset too small for an older block) it reads the time split.

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

from stance.io import jsonl_lines
from training import intervals
from training.timesplit import PREDICTIONS, ROLLING

SIGNIFICANCE = 0.05  # one-sided: the lower tail the 90 % two-sided interval leaves out


@dataclass(frozen=True)
class Verdict:
    promote: bool
    why: str


@dataclass(frozen=True)
class Predictions:
    """A run's time-split test sentences:
    id -> (article, true actor, true stance, predicted actor, predicted stance)."""

    rows: dict[str, tuple[str, str, str, str, str]]

    @classmethod
    def from_jsonl(cls, text: str) -> Predictions:
        rows = {}
        for line in jsonl_lines(text):
            if line.strip():
                r = json.loads(line)
                rows[r["sentence_id"]] = (r["article"], *r["true"][:2], *r["predicted"][:2])
        return cls(rows)


def predictions_jsonl(run_id: str, artifact: str = PREDICTIONS) -> str | None:
    """The time-split predictions file logged on an MLflow run (JSON lines), or None when it has none
    (``artifact=ROLLING``: the rolling origin's, every block's)."""
    import mlflow
    from mlflow.exceptions import MlflowException

    with tempfile.TemporaryDirectory() as tmp:
        try:
            local = mlflow.artifacts.download_artifacts(run_id=run_id, artifact_path=artifact, dst_path=tmp)
        except (MlflowException, OSError):
            return None
        return Path(local).read_text(encoding="utf-8")


def predictions(run, artifact: str = PREDICTIONS) -> Predictions | None:
    """The time-split predictions logged on an MLflow run, or None when it has none."""
    text = predictions_jsonl(run.info.run_id, artifact)
    return None if text is None else Predictions.from_jsonl(text)


def rule(
    challenger: Predictions | None, champion: Predictions | None, labels: list[str], where: str = "time-split"
) -> Verdict:
    """The rule of the module docstring on two runs' time-split predictions (``labels``: the stances;
    ``where`` names the predictions in the verdict: ``rolling-origin`` for the pooled blocks)."""
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
    facts, stance, holders = _evidence(challenger, champion, labels, where)
    return _margin(facts, stance, holders)


def _evidence(challenger: Predictions, champion: Predictions, labels: list[str], where: str = "time-split"):
    """(the facts in words, stance's (lo, hi, p), holders' (lo, hi, p)) on the same test sentences."""
    ids = sorted(challenger.rows)
    index = {label: i for i, label in enumerate(labels)}
    articles = [challenger.rows[i][0] for i in ids]
    true_actor = [challenger.rows[i][1] for i in ids]
    truth = [index[challenger.rows[i][2]] for i in ids]
    ours = [index[challenger.rows[i][4]] for i in ids]
    theirs = [index[champion.rows[i][4]] for i in ids]
    held_ours, held_theirs = [challenger.rows[i][3] for i in ids], [champion.rows[i][3] for i in ids]
    s_point, s_lo, s_hi = intervals.paired_difference(articles, truth, theirs, ours, len(labels))
    s_p = intervals.paired_permutation(articles, truth, theirs, ours, len(labels))
    holders = (articles, true_actor, truth, held_theirs, held_ours, index["none"])
    a_point, a_lo, a_hi = intervals.paired_e2e_difference(*holders)
    a_p = intervals.paired_e2e_permutation(*holders)
    k, sentences, m, n = intervals.differing(
        articles, truth, theirs, ours, held_theirs, held_ours, index["none"]
    )
    score = float(intervals.macro_f1(_confusion(truth, ours, len(labels))))
    bearing = [i for i in ids if challenger.rows[i][2] != "none"]
    e2e = sum(challenger.rows[i][3] == challenger.rows[i][1] for i in bearing) / max(len(bearing), 1)
    facts = (
        f"{where} stance macro-F1 {score:.3f} against the champion's {score - s_point:.3f}: {s_point:+.3f}, "
        f"90% paired interval by article [{s_lo:+.3f}, {s_hi:+.3f}]; actor accuracy end to end {e2e:.3f} "
        f"against {e2e - a_point:.3f}: {a_point:+.3f} [{a_lo:+.3f}, {a_hi:+.3f}]; over {n} articles; "
        f"permutation p by article: stance {s_p:.3f}, holders {a_p:.3f}; "
        f"decisions differ on {k} of {sentences} sentences in {m} of {n} articles"
    )
    return facts, (s_lo, s_hi, s_p), (a_lo, a_hi, a_p)


def _margin(facts: str, stance: tuple[float, float, float], holders: tuple[float, float, float]) -> Verdict:
    """The margin of the module docstring on each figure's (interval lo, interval hi, permutation p)."""
    (s_lo, s_hi, s_p), (a_lo, a_hi, a_p) = stance, holders
    stance_up, holders_up = s_lo > 0 and s_p < SIGNIFICANCE, a_lo > 0 and a_p < SIGNIFICANCE
    if stance_up and a_hi >= 0:
        return Verdict(True, f"{facts}: stance above zero, holders not clearly worse")
    if holders_up and s_hi >= 0:
        return Verdict(True, f"{facts}: holders above zero, stance not clearly worse")
    if stance_up or holders_up:
        return Verdict(False, f"{facts}: a gain on one figure, but clearly worse on the other")
    if s_lo > 0 or a_lo > 0:
        which = " and ".join(name for name, lo in (("stance", s_lo), ("holders", a_lo)) if lo > 0)
        return Verdict(
            False,
            f"{facts}: {which} above zero by the interval but not by the permutation test "
            f"(p not below {SIGNIFICANCE}), no clear gain",
        )
    return Verdict(False, f"{facts}: neither above zero, no clear gain")


# what makes two runs the same recipe: a retrain of it on newer labels refreshes the champion
SAME_RECIPE = ("recipe_hash", "scheme_hash", "gazetteer_hash")


def _data_of(challenger_run, champion_run):
    """(the champion's data version, the challenger's, and their snapshots' labels, None where a
    data version has no committed snapshot)."""
    from training.lineage import snapshot_labels

    theirs = champion_run.data.tags.get("data_version")
    ours = challenger_run.data.tags.get("data_version")
    return theirs, ours, snapshot_labels(theirs), snapshot_labels(ours)


def lost_sentences(challenger_run, champion_run) -> Verdict | None:
    """A refusal when the challenger's data lacks labeled sentences the champion's data holds (an
    older or a smaller snapshot: a model trained on it must not replace one trained on more); None
    when it lacks none, or when either data version has no committed snapshot to read."""
    return _lost(*_data_of(challenger_run, champion_run))


def _lost(theirs: str, ours: str, before: dict | None, after: dict | None) -> Verdict | None:
    if before is None or after is None:
        return None
    lost = sum(1 for sid in before if sid not in after)
    if not lost:
        return None
    return Verdict(
        False,
        f"this run's data {ours} ({len(after)} labeled sentences) lacks {lost} of the {len(before)} of the "
        f"champion's data {theirs} (an older or smaller snapshot): train on the current data",
    )


def across_data(challenger_run, champion_run) -> Verdict:
    """The rule when the two runs were trained on different data versions, where their figures
    are not comparable. The champion's own recipe retrained on data that keeps every labeled
    sentence of the champion's (new labels added or corrected) is its refresh, and takes its
    place; a run on data that lost some never does; any other recipe needs a run of the
    champion's recipe on the same data to be judged against (``stance promote`` finds one)."""
    theirs, ours, before, after = _data_of(challenger_run, champion_run)
    if refused := _lost(theirs, ours, before, after):
        return refused
    mine, champs = challenger_run.data.tags, champion_run.data.tags
    if before is not None and after is not None and all(mine.get(k) == champs.get(k) for k in SAME_RECIPE):
        added = sum(1 for sid in after if sid not in before)
        changed = sum(1 for sid, rec in after.items() if sid in before and before[sid] != rec)
        code = (
            f"; code {champs.get('code_version')} -> {mine.get('code_version')}"
            if champs.get("code_version") != mine.get("code_version")
            else ""
        )
        return Verdict(
            True,
            f"the champion's recipe retrained on data {ours}, which keeps every labeled sentence of the "
            f"champion's data {theirs} ({added} added, {changed} relabeled{code}); figures on different "
            "data are not compared",
        )
    return Verdict(False, f"the champion was evaluated on data {theirs}, this run on {ours}; not comparable")


def _confusion(truth, pred, n: int) -> np.ndarray:
    m = np.zeros((n, n))
    np.add.at(m, (truth, pred), 1)
    return m


def judge(challenger_run, reference_run, labels: list[str]) -> Verdict:
    """The rule on two MLflow runs: the challenger's, and the champion's (or its stand-in's)."""
    tags = challenger_run.data.tags
    if reference_run is not None and reference_run.data.tags.get("data_version") != tags.get("data_version"):
        return across_data(challenger_run, reference_run)
    if reference_run is not None:  # both runs asked at every origin, on the same sentences: that, pooled
        ours, theirs = predictions(challenger_run, ROLLING), predictions(reference_run, ROLLING)
        if ours and theirs and set(ours.rows) == set(theirs.rows):
            return rule(ours, theirs, labels, where="rolling-origin")
    champ = (predictions(reference_run) or Predictions({})) if reference_run is not None else None
    return rule(predictions(challenger_run), champ, labels)
