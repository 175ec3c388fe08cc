"""The ``hybrid`` kind's recipe (training/models/hybrid.py): every setting a recipe YAML may give,
checked before a run starts, and the two decision-time priors' choices (p(none) scaled, the actor
told its stance) with the helpers that pick them."""

from __future__ import annotations

import re
from typing import Literal

import numpy as np
from pydantic import Field, field_validator

from training.models import attention, cues, encoder, holder, onnx_encoder, recency
from training.models.baseline import BaselineRecipe

# the scales of p(none) ``none_prior: fit`` chooses among, largest first (ties keep the larger)
NONE_SCALES = (1.0, 0.9, 0.8, 0.7, 0.6, 0.5)
# the exponents ``actor_stance_prior: fit`` chooses among (ties keep the smaller)
ACTOR_STANCE_EXPONENTS = (0.0, 0.25, 0.5, 0.75, 1.0)


class HybridRecipe(BaselineRecipe):
    kind: Literal["hybrid"] = "hybrid"  # type: ignore[assignment]
    base_model: str = Field(encoder.PACKAGED_MINILM, description="Encoder: packaged name, folder or hub id.")
    max_length: int = Field(128, ge=8, description="Tokens per sentence; longer ones are truncated.")
    batch_size: int = Field(64, ge=1, description="Sentences per encoder forward pass.")
    embedding_weight: float = Field(
        3.0, ge=0, description="Scale of the embeddings beside the unit-length TF-IDF rows (stance head)."
    )
    actor_cues: dict[str, list[str]] = Field(
        default_factory=lambda: dict(cues.DEFAULT_ACTOR_CUES),
        description="Per actor, regular expressions of its names, checked in this order.",
    )
    gazetteer: bool = Field(
        True, description="Read configs/gazetteer.yaml's people and offices as actor cues (names first)."
    )
    # measured (README, holder attribution; the actor head's levers): according_to and reported did not help
    holder_features: list[Literal[holder.LEVERS]] = Field(  # type: ignore[valid-type]
        default_factory=lambda: ["subject", "context"],
        description=f"Holder features for the actor head: {', '.join(holder.LEVERS)}.",
    )
    holder_weight: float = Field(2.0, ge=0, description="Scale of the holder features (actor head).")
    parse_holder_weight: float = Field(
        0.0,
        ge=0,
        le=1,
        description="Share of the parse's holder (holder.explain: the resolved subject, the earlier "
        "sentence's holder for 'He said', the 'according to' source, a mediation's third party) in "
        "p(actor | a stance), beside the actor head's (0: off; 0.5 and above: the parse decides "
        "wherever it resolves a holder).",
    )
    stance_cues_weight: float = Field(
        0.0,
        ge=0,
        description="Scale of the actor-name cues and holder features in the stance head too (0: off).",
    )
    recency_half_life_days: float | None = recency.half_life_field()
    pooling: Literal[encoder.POOLINGS] = encoder.pooling_field()  # type: ignore[valid-type]
    onnx_int8: bool = onnx_encoder.int8_field()
    attention_weight: float = Field(
        0.0,
        ge=0,
        le=1,
        description="Share of the attention head (training/models/attention.py) in the stance "
        "probabilities, beside the logistic regression's (0: no attention head).",
    )
    attention_mode: Literal[attention.MODES] = Field(  # type: ignore[valid-type]
        "which",
        description="'which': the attention head shares in which stance, the logistic regression alone "
        "says whether there is one (p(none)); 'mean': the two heads' probabilities averaged.",
    )
    attention_queries: int = Field(4, ge=0, le=16, description="The attention head's learned queries.")
    attention_epochs: int = Field(30, ge=1, le=500, description="The attention head's training epochs.")
    attention_seeds: int = Field(1, ge=1, le=10, description="Attention heads trained (seeds), averaged.")
    attention_temperature: bool = Field(
        False,
        description="Divide the attention head's logits by a temperature fitted on training articles "
        "held out of one more head's training (so its probabilities mean what they say).",
    )
    none_prior: Literal["off", "fit"] = Field(
        "off",
        description="'fit': scale p(none) (then renormalise) by the one of NONE_SCALES that gives the best "
        "stance macro-F1 on the newest training articles, held out of one more fit of the stance heads; "
        "macro-F1 rewards the rarer stances that a likelihood-trained head calls `none` (off: 1).",
    )
    actor_stance_prior: float | Literal["fit"] = Field(
        0.0,
        description="Tell the actor which stance it holds: p(actor | a stance) times (p(actor | the "
        "stance) / p(actor | a stance)) ** this exponent, both from the training labels (mediation is "
        "mostly the mediators', denial mostly the Afghan Taliban's), renormalised per stance and summed "
        "over the stance probabilities. 0: off. 'fit': the one of ACTOR_STANCE_EXPONENTS whose decisions "
        "on the newest training articles, held out of one more fit of the heads (the stance heads' fit "
        "shared with none_prior), get the most labeled stance-bearing sentences' actor right.",
    )

    @field_validator("actor_stance_prior", mode="before")
    @classmethod
    def _exponent(cls, value):
        number = isinstance(value, int | float) and not isinstance(value, bool)
        if value != "fit" and not (number and 0 <= value <= 4):
            raise ValueError("must be 'fit' or a number from 0 to 4")
        return value

    @field_validator("actor_cues")
    @classmethod
    def _patterns(cls, value: dict[str, list[str]]) -> dict[str, list[str]]:
        for actor, patterns in value.items():
            for pattern in patterns:
                try:
                    re.compile(pattern)
                except re.error as exc:
                    raise ValueError(f"{actor}: {pattern!r} is not a regular expression ({exc})") from None
        return value


def none_scaled(p: np.ndarray, scale: float, none: int) -> np.ndarray:
    """Stance probabilities with p(none) times ``scale``, renormalised (a shift of the prior of
    `none`; 1 leaves them as they are)."""
    if scale == 1.0:
        return p
    out = p.copy()
    out[:, none] *= scale
    return out / out.sum(axis=1, keepdims=True)


def best_none_scale(p: np.ndarray, y: np.ndarray, none: int) -> float:
    """The scale in NONE_SCALES whose :func:`none_scaled` decisions on held-out sentences (stance
    probabilities ``p``, labels ``y``) have the best stance macro-F1; ties keep the larger scale."""
    from sklearn.metrics import f1_score

    labels = range(p.shape[1])
    scores = [
        f1_score(y, none_scaled(p, s, none).argmax(1), labels=labels, average="macro", zero_division=0)
        for s in NONE_SCALES
    ]
    return float(NONE_SCALES[int(np.argmax(scores))])
