"""Per-class log-offsets on the stance probabilities, fitted for macro-F1 on out-of-fold predictions.

A class-balanced logistic head still sends about a third of the stance-bearing sentences
of new coverage to ``none``: it is trained for log-loss, and the figure a user reads is
macro-F1 over the five stances. Adding a per-class offset to the log-probabilities
(``none`` fixed at 0: only differences matter) moves the decision boundaries without
retraining the head. The offsets are fitted on *out-of-fold* probabilities (grouped CV by
article over the training sentences), never on the sentences the head was fitted on,
whose probabilities are overconfident. The shifted probabilities are renormalised, so
every consumer (decode, the profile, Label Studio's score) sees the same decision.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

GRID = np.round(np.arange(-2.0, 2.01, 0.1), 2)  # offsets tried per class, in log-probability units
ROUNDS = 4  # coordinate-ascent sweeps over the classes (it settles in two or three)


def apply(p: np.ndarray, offsets: np.ndarray | None) -> np.ndarray:
    """``p`` shifted by per-class log-offsets and renormalised (``p`` unchanged when there are none)."""
    if offsets is None:
        return p
    q = np.clip(p, 1e-12, None) * np.exp(np.asarray(offsets))[None, :]
    return q / q.sum(axis=1, keepdims=True)


def macro_f1(y: np.ndarray, pred: np.ndarray, n: int) -> float:
    """Macro-F1 over the classes present in ``y`` or ``pred`` (as scikit-learn counts it)."""
    from training.intervals import macro_f1 as of_confusion

    conf = np.zeros((n, n))
    np.add.at(conf, (np.asarray(y), np.asarray(pred)), 1)
    return float(of_confusion(conf))


def fit(
    p: np.ndarray, y: np.ndarray, none_id: int, grid: np.ndarray = GRID, rounds: int = ROUNDS
) -> np.ndarray:
    """Offsets (``none`` at 0) maximising the macro-F1 of ``argmax(log p + offsets)``, by coordinate ascent.

    A change is kept only when it raises macro-F1, so offsets stay at 0 unless they help.
    """
    n = p.shape[1]
    logp = np.log(np.clip(p, 1e-12, None))
    best_b, best = np.zeros(n), macro_f1(y, logp.argmax(axis=1), n)
    for _ in range(rounds):
        moved = False
        for c in (c for c in range(n) if c != none_id):
            for v in grid:
                trial = best_b.copy()
                trial[c] = v
                score = macro_f1(y, (logp + trial).argmax(axis=1), n)
                if score > best + 1e-9:
                    best_b, best, moved = trial, score, True
        if not moved:
            break
    return best_b


def out_of_fold(make_head: Callable, x, y: np.ndarray, groups, folds: int, seed: int, n: int) -> np.ndarray:
    """Out-of-fold probabilities of a head over ``x``: grouped (by article) ``folds``-fold CV."""
    from sklearn.model_selection import StratifiedGroupKFold

    from training.models.base import full_proba

    groups = np.asarray(groups)
    k = min(folds, len(set(groups.tolist())))
    out = np.zeros((len(y), n))
    # each held-out article's sentences are scored by a head that never saw that article
    for train_idx, test_idx in StratifiedGroupKFold(k, shuffle=True, random_state=seed).split(x, y, groups):
        out[test_idx] = full_proba(make_head().fit(x[train_idx], y[train_idx]), x[test_idx], n)
    return out
