"""SetFit few-shot recipe: contrastive fine-tuning of the sentence encoder, then linear heads.

The ``setfit`` library fine-tunes the encoder on pairs of sentences (same stance or
not) and fits the stance head; the actor head is a class-balanced logistic
regression on the same fine-tuned embeddings, learned from stance-bearing
sentences, so one encoder serves both facets.
"""

from __future__ import annotations

import json
import tempfile
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


class FewshotRecipe(RecipeBase):
    kind: Literal["fewshot"] = "fewshot"
    base_model: str = Field(
        encoder.PACKAGED_MINILM, description="Sentence-transformers encoder: packaged name, folder or hub id."
    )
    max_length: int = Field(128, ge=8, description="Tokens per sentence; longer ones are truncated.")
    num_iterations: int = Field(
        5, ge=1, description="Contrastive pairs generated per sentence (SetFit's num_iterations)."
    )
    epochs: int = Field(1, ge=1, description="Passes over the generated pairs.")
    batch_size: int = Field(16, ge=1, description="Pairs per step.")
    body_learning_rate: float = Field(
        2e-5, gt=0, description="Learning rate of the encoder's contrastive fine-tuning."
    )
    C: float = Field(
        16.0, gt=0, description="Inverse regularisation strength of the logistic-regression heads."
    )
    onnx_int8: bool = onnx_encoder.int8_field()


class FewshotClassifier:
    kind = "fewshot"
    requirements = (*TORCH_REQUIREMENTS, "setfit", "sentence-transformers")

    def __init__(self, recipe: FewshotRecipe, actor_labels: list[str], stance_labels: list[str]):
        self.recipe = recipe
        self.actor_labels = actor_labels
        self.stance_labels = stance_labels
        self.model_ = self.onnx_ = None

    def _head(self):
        from sklearn.linear_model import LogisticRegression

        return LogisticRegression(
            C=self.recipe.C, class_weight="balanced", max_iter=3000, random_state=self.recipe.seed
        )

    def fit(
        self, texts: list[str], actors: Ids, stances: Ids, groups=None, contexts=None, dates=None
    ) -> Self:
        from datasets import Dataset
        from setfit import SetFitModel, Trainer, TrainingArguments

        r = self.recipe
        encoder.set_threads()
        model = SetFitModel.from_pretrained(
            encoder.resolve(r.base_model),
            head_params={"C": r.C, "class_weight": "balanced", "max_iter": 3000},
        )
        with tempfile.TemporaryDirectory() as out:
            args = TrainingArguments(
                output_dir=out, batch_size=r.batch_size, num_epochs=r.epochs, num_iterations=r.num_iterations,
                body_learning_rate=r.body_learning_rate, max_length=r.max_length, seed=r.seed,
                report_to="none", show_progress_bar=True, save_strategy="no",
            )  # fmt: skip
            data = Dataset.from_dict({"text": list(texts), "label": [int(s) for s in stances]})
            Trainer(model=model, args=args, train_dataset=data).train()
        self.model_, self.stance_ = model, model.model_head
        x = self._embed(list(texts))
        actors = np.asarray(actors)
        bearing = actors != labels_of(self).none_actor_id
        self.actor_ = self._head().fit(x[bearing], actors[bearing])
        return self

    def _embed(self, texts: list[str]) -> np.ndarray:
        if self.onnx_ is not None:
            return self.onnx_.run(list(texts))[0]
        return np.asarray(self.model_.encode(texts, batch_size=64))

    def predict_proba(self, texts: list[str], contexts=None) -> tuple[np.ndarray, np.ndarray]:
        x = self._embed(list(texts))
        stance_p = full_proba(self.stance_, x, len(self.stance_labels))
        actor_given = full_proba(self.actor_, x, len(labels_of(self).real_actors))
        return factorized_actor_proba(stance_p, actor_given, self.actor_labels, self.stance_labels), stance_p

    def save(self, folder: Path) -> None:
        import joblib

        folder = Path(folder)
        write_meta(folder, self)
        self.model_.save_pretrained(str(folder / "setfit"))
        self._export(folder)
        joblib.dump(self.actor_, folder / "actor_head.joblib")

    def _export(self, folder: Path) -> None:
        """The SetFit body as ONNX, when it is the plain recipe (transformer, mean pooling, normalise?)."""
        body = self.model_.model_body
        names = [type(m).__name__ for m in body]
        pooling = body[1] if len(names) > 1 and names[1] == "Pooling" else None
        if (
            names[0] != "Transformer"
            or pooling is None
            or getattr(pooling, "pooling_mode", None) not in ("mean", ("mean",))
        ):
            return  # another body: scored with torch
        normalize = "Normalize" in names[2:] or self.model_.normalize_embeddings
        onnx_encoder.export_pooled(
            body[0].auto_model, body.tokenizer, folder, body.get_max_seq_length(), normalize,
            int8=self.recipe.onnx_int8,
        )  # fmt: skip

    @classmethod
    def load(cls, folder: Path) -> Self:
        import joblib

        folder = Path(folder)
        meta = read_meta(folder)
        legacy = folder / "fewshot.json"  # where models saved before classifier.json held it keep theirs
        old = json.loads(legacy.read_text())["recipe"] if legacy.exists() else None
        recipe = saved_recipe(meta, FewshotRecipe, old)
        model = cls(recipe, meta["actor_labels"], meta["stance_labels"])
        model.actor_ = joblib.load(folder / "actor_head.joblib")
        if onnx_encoder.available(folder):  # no setfit, torch or transformers on this path
            model.onnx_ = onnx_encoder.OnnxEncoder(folder)
            model.stance_ = joblib.load(folder / "setfit" / "model_head.pkl")
            return model
        from setfit import SetFitModel

        encoder.set_threads()
        model.model_ = SetFitModel.from_pretrained(str(folder / "setfit"))
        model.stance_ = model.model_.model_head
        return model
