"""Weights that favour the newest training articles: coverage drifts, and the model serves new coverage.

The labeled articles span 2021 to late 2025, and what they are about moved: the older ones
report the Afghan Taliban brokering Pakistan's talks with the TTP, the newest Turkey, Qatar and
Saudi Arabia brokering Pakistan's talks with Kabul (on the time split, a third of the newest
articles' stance-bearing sentences are a mediator's mediation, against one in forty-four in
the older ones). With ``recency_half_life_days`` a recipe's heads weight each training
sentence by ``0.5 ** (age / half_life)``, its article's age counted in days back from the
newest dated article it is trained on (so in grouped CV each fold counts from its own newest).
An undated article gets the median weight of the dated ones: no claim about its age either way.
Weights are rescaled to mean 1, so a head's regularisation means what it meant unweighted.
"""

from __future__ import annotations

from datetime import date

import numpy as np
from pydantic import Field


def half_life_field():
    return Field(
        None,
        gt=0,
        description="Weight training sentences by their article's recency, halving every this many days "
        "back from the newest dated article (None: all weigh the same).",
    )


def weights(dates: list[str] | None, half_life_days: float | None) -> np.ndarray | None:
    """One weight per sentence (mean 1), or None when unweighted or no sentence is dated."""
    if not half_life_days or dates is None:
        return None
    days = [date.fromisoformat(d[:10]).toordinal() if d else None for d in dates]
    known = [d for d in days if d is not None]
    if not known:
        return None
    newest = max(known)
    w = np.array([np.nan if d is None else 0.5 ** ((newest - d) / half_life_days) for d in days])
    w[np.isnan(w)] = np.median(w[~np.isnan(w)])
    return w / w.mean()
