"""The study's binary head: "is there a stance at all?", and how its answer joins the five-class head.

About a quarter of the stance-bearing sentences of new coverage were predicted ``none``
(experiments/quality/result.md), and a ``none`` also hides the holder. A binary head,
trained on stance-bearing against ``none`` sentences, decides that question; the
five-class head then only says *which* stance:

    p(none) = 1 - b,   p(s) = b * q(s) / sum of q over the real stances,

where ``q`` is the five-class head's probabilities and ``b`` the binary head's
p(some stance) with its log-odds moved by ``shift``. The shift is fitted to maximise
stance macro-F1 of the argmax over out-of-fold predictions of grouped CV on the
training articles (never on data it is scored on), so the argmax of the joined
probabilities is the decision that was fitted, as a recipe option would need it.
(An earlier form of the study put a threshold on p(some stance) and took the
five-class head's best real stance; the joined form scores as well or worse, and
neither beat the holder cues in the stance head: experiments/quality/result.md.)
"""

from __future__ import annotations

import numpy as np

SHIFTS = np.round(np.arange(-2.0, 2.01, 0.1), 2)  # log-odds shifts tried for the binary head


def combine(q: np.ndarray, bearing: np.ndarray, none_id: int, shift: float = 0.0) -> np.ndarray:
    """Stance probabilities from the five-class head ``q`` and the binary head's p(some stance)."""
    b = np.clip(np.asarray(bearing, dtype=float), 1e-12, 1 - 1e-12)
    b = 1.0 / (1.0 + np.exp(-(np.log(b / (1 - b)) + shift)))
    real = np.asarray(q, dtype=float).copy()
    real[:, none_id] = 0.0
    total = real.sum(axis=1, keepdims=True)
    # a five-class head certain of none leaves no real stance to prefer: share b evenly
    real = np.where(total > 0, real / np.where(total > 0, total, 1.0), 1.0 / (q.shape[1] - 1))
    real[:, none_id] = 0.0
    out = real * b[:, None]
    out[:, none_id] = 1.0 - b
    return out


def fit_shift(q: np.ndarray, bearing: np.ndarray, y: np.ndarray, none_id: int) -> float:
    """The shift (from SHIFTS) whose argmax has the best macro-F1 on ``y``; the smallest |shift| on ties."""
    from experiments.quality_levers import macro_f1  # the study's one macro-F1 (imported here: it imports us)

    def score(s: float) -> float:
        return macro_f1(y, combine(q, bearing, none_id, s).argmax(axis=1), q.shape[1])

    scored = [(score(s), -abs(s), s) for s in SHIFTS]
    return float(max(scored)[2])
