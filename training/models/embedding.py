"""Frozen sentence embeddings (mean-pooled encoder) with class-balanced linear heads."""

from __future__ import annotations

from pathlib import Path
from typing import Literal, Self

import numpy as np
from pydantic import Field

from training.models import encoder, onnx_encoder
from training.models.base import (
    TORCH_REQUIREMENTS,
    Ids,
    RecipeBase,
    factorized_actor_proba,
    full_proba,
    labels_of,
    read_meta,
    saved_recipe,
    write_meta,
)


class EmbeddingRecipe(RecipeBase):
    kind: Literal["embedding"] = "embedding"
    base_model: str = Field(encoder.PACKAGED_MINILM, description="Encoder: packaged name, folder or hub id.")
    max_length: int = Field(128, ge=8, description="Tokens per sentence; longer ones are truncated.")
    batch_size: int = Field(64, ge=1, description="Sentences per encoder forward pass.")
    C: float = Field(4.0, gt=0, description="Inverse regularisation strength of the heads.")
    class_weight: Literal["balanced"] | None = Field("balanced", description="Reweight rare classes.")
    pooling: Literal[encoder.POOLINGS] = encoder.pooling_field()  # type: ignore[valid-type]
    onnx_int8: bool = onnx_encoder.int8_field()


class EmbeddingClassifier:
    """The encoder stays frozen; only two logistic-regression heads are learned."""

    kind = "embedding"
    requirements = TORCH_REQUIREMENTS
    recipe_class: type[RecipeBase] = EmbeddingRecipe

    def __init__(self, recipe: EmbeddingRecipe, actor_labels: list[str], stance_labels: list[str]):
        self.recipe = recipe
        self.actor_labels = actor_labels
        self.stance_labels = stance_labels
        self.tokenizer_ = self.encoder_ = None
        self.onnx_ = None  # the exported encoder's session, when loaded from a folder that has one

    def _embed(self, texts: list[str]) -> np.ndarray:
        if self.onnx_ is not None:
            return self.onnx_.run(list(texts))[0]
        if self.encoder_ is None:
            encoder.set_threads()
            self.tokenizer_, self.encoder_ = encoder.load_frozen(self.recipe.base_model)
        r = self.recipe
        return encoder.embed_frozen(texts, r.base_model, r.batch_size, r.max_length, r.pooling)

    def _head(self):
        from sklearn.linear_model import LogisticRegression

        r = self.recipe
        return LogisticRegression(C=r.C, class_weight=r.class_weight, max_iter=3000, random_state=r.seed)

    def _features(self, texts: list[str], contexts: list[str] | None = None):
        """What the actor head and the stance head read (here both: the sentence embedding).

        ``contexts`` (each sentence's preceding sentences) are for kinds that read them.
        """
        x = self._embed(texts)
        return x, x

    def fit(
        self, texts: list[str], actors: Ids, stances: Ids, groups=None, contexts=None, dates=None
    ) -> Self:
        actor_x, stance_x = self._features(list(texts), contexts)
        self._fit_heads(actor_x, stance_x, actors, stances)
        return self

    def _fit_heads(self, actor_x, stance_x, actors, stances, weight=None) -> None:
        """The actor head on the stance-bearing rows, the stance head on all (``weight``: per sentence)."""
        bearing = np.asarray(actors) != labels_of(self).none_actor_id
        self.actor_ = self._head().fit(
            actor_x[bearing],
            np.asarray(actors)[bearing],
            sample_weight=None if weight is None else weight[bearing],
        )
        self.stance_ = self._head().fit(stance_x, stances, sample_weight=weight)

    def predict_proba(self, texts: list[str], contexts=None) -> tuple[np.ndarray, np.ndarray]:
        actor_x, stance_x = self._features(list(texts), contexts)
        stance_p = full_proba(self.stance_, stance_x, len(self.stance_labels))
        actor_given = full_proba(self.actor_, actor_x, len(labels_of(self).real_actors))
        return factorized_actor_proba(stance_p, actor_given, self.actor_labels, self.stance_labels), stance_p

    def save(self, folder: Path) -> None:
        import joblib

        write_meta(folder, self)
        self._save_encoder(folder)
        joblib.dump(self._state(), folder / "heads.joblib")

    def _state(self) -> dict:
        """What is learned besides the encoder (pickled by joblib into heads.joblib)."""
        return {"actor": self.actor_, "stance": self.stance_}

    def _restore(self, state: dict) -> None:
        self.actor_, self.stance_ = state["actor"], state["stance"]

    def _save_encoder(self, folder: Path) -> None:
        if self.encoder_ is None:
            self._embed(["warm-up"])
        # the encoder's weights travel with the model: no base model needed where it is served
        self.tokenizer_.save_pretrained(folder / "encoder")
        self.encoder_.save_pretrained(folder / "encoder")
        r = self.recipe
        onnx_encoder.export_pooled(
            self.encoder_,
            self.tokenizer_,
            folder,
            r.max_length,
            int8=r.onnx_int8,
            pooling=r.pooling,
            tokens=self._needs_tokens(),
        )

    def _needs_tokens(self) -> bool:
        """Does the exported graph also give the token states (a kind with an attention head)?"""
        return False

    @classmethod
    def load(cls, folder: Path) -> Self:
        import joblib

        meta = read_meta(folder)
        state = joblib.load(Path(folder) / "heads.joblib")
        recipe = saved_recipe(
            meta, cls.recipe_class, state.get("recipe"), base_model=str(Path(folder) / "encoder")
        )
        model = cls(recipe, meta["actor_labels"], meta["stance_labels"])
        model._restore(state)
        if onnx_encoder.available(folder):
            model.onnx_ = onnx_encoder.OnnxEncoder(folder)
        return model
