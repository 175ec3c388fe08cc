"""TF-IDF n-grams and frozen MiniLM embeddings side by side, plus actor-name cues.

Neither feature set wins alone: n-grams catch the stance verbs ("refused", "urged",
"hosted") and the embeddings catch paraphrases of them, so the stance head reads both.
The actor head reads the n-grams and which actors the sentence names, in order
(training/models/cues.py); in grouped CV the embeddings did not help it.
"""

from __future__ import annotations

import re
from typing import Literal, Self

import numpy as np
from pydantic import Field, field_validator

from training.models import cues, encoder
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
    recipe_class = HybridRecipe

    def _head(self):
        from sklearn.linear_model import LogisticRegression

        r = self.recipe
        return LogisticRegression(
            C=r.C, class_weight=r.class_weight, max_iter=r.max_iter, random_state=r.seed
        )

    def _features(self, texts: list[str]):
        from scipy.sparse import csr_matrix, hstack

        tfidf = self.tfidf_.transform(texts)
        stance_x = hstack([tfidf, csr_matrix(self.recipe.embedding_weight * self._embed(texts))]).tocsr()
        actor_x = hstack([tfidf, csr_matrix(cues.features(texts, self.recipe.actor_cues))]).tocsr()
        return actor_x, stance_x

    def fit(self, texts: list[str], actors: np.ndarray, stances: np.ndarray, groups=None) -> Self:
        unknown = set(self.recipe.actor_cues) - set(self.actor_labels)
        if unknown:
            from stance.errors import StanceError

            raise StanceError(
                f"actor_cues names actors not in the label scheme: {', '.join(sorted(unknown))}"
            )
        self.tfidf_ = tfidf_features(self.recipe).fit(list(texts))
        return super().fit(texts, actors, stances, groups)

    def _state(self) -> dict:
        return super()._state() | {"tfidf": self.tfidf_}

    def _restore(self, state: dict) -> None:
        super()._restore(state)
        self.tfidf_ = state["tfidf"]
