"""The shared output contract of every model kind: labels decoded from probabilities.

Kept free of heavy imports so evaluation and the CLI can use it without loading MLflow.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

if TYPE_CHECKING:
    import pandas as pd


def decode(
    actor_p: np.ndarray, stance_p: np.ndarray, actor_labels: list[str], stance_labels: list[str], none: str
) -> tuple[list[str], list[str]]:
    """Labels from probabilities, honouring the rule actor == none <=> stance == none."""
    stance_idx = stance_p.argmax(axis=1)
    none_actor = actor_labels.index(none)
    real = np.delete(np.arange(len(actor_labels)), none_actor)
    best_real = real[actor_p[:, real].argmax(axis=1)]
    stances = [stance_labels[i] for i in stance_idx]
    actors = [none if s == none else actor_labels[a] for s, a in zip(stances, best_real, strict=True)]
    return actors, stances


def output_frame(
    actor_p: np.ndarray, stance_p: np.ndarray, actor_labels: list[str], stance_labels: list[str], none: str
) -> pd.DataFrame:
    import pandas as pd

    actors, stances = decode(actor_p, stance_p, actor_labels, stance_labels, none)
    frame = {"actor": actors, "stance": stances}
    frame |= {f"actor:{label}": actor_p[:, i] for i, label in enumerate(actor_labels)}
    frame |= {f"stance:{label}": stance_p[:, i] for i, label in enumerate(stance_labels)}
    return pd.DataFrame(frame)
