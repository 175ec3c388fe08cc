"""A transformer encoder fine-tuned for both facets at once: one encoder, two heads.

One forward pass serves both facets, and the stance signal shapes the encoder the
actor head reads. The stance head sees every sentence; the actor head learns who
holds a stance from stance-bearing sentences only (its loss is masked elsewhere),
and the two combine as p(actor) = p(some stance) x p(actor | a stance), as in every
kind. Training uses the transformers Trainer: class-weighted loss, early stopping
on stance macro-F1 over validation *articles* held out of the training data, fixed
seeds, and one temperature per head fitted on that validation set afterwards.
"""

from __future__ import annotations

import json
import tempfile
from functools import partial
from pathlib import Path
from typing import Literal, Self

import numpy as np
from pydantic import Field, model_validator

from training import context
from training.calibration import fit_temperature, softmax
from training.models import encoder, finetune_data, onnx_encoder
from training.models.base import (
    TORCH_REQUIREMENTS,
    Ids,
    RecipeBase,
    factorized_actor_proba,
    labels_of,
    read_meta,
    saved_recipe,
    take,
    write_meta,
)
from training.models.finetune_net import freeze_below, frozen_states, two_heads


class FinetuneRecipe(RecipeBase):
    kind: Literal["finetune"] = "finetune"
    base_model: str = Field(encoder.PACKAGED_MINILM, description="Encoder: packaged name, folder or hub id.")
    max_length: int = Field(128, ge=8, description="Tokens per sentence; longer ones are truncated.")
    epochs: int = Field(12, ge=1, description="Most epochs; early stopping usually ends sooner.")
    learning_rate: float = Field(8e-5, gt=0, description="Peak learning rate (linear decay after warm-up).")
    batch_size: int = Field(16, ge=1, description="Training sentences per step.")
    weight_decay: float = Field(0.01, ge=0, description="AdamW weight decay.")
    warmup: float = Field(0.1, ge=0, lt=1, description="Share of steps spent warming up the learning rate.")
    dropout: float = Field(0.1, ge=0, lt=1, description="Dropout on the pooled sentence vector.")
    class_weighted: bool = Field(True, description="Weight the loss by inverse class frequency.")
    patience: int = Field(
        3, ge=1, description="Epochs without a better early-stopping figure before stopping."
    )
    validation_share: float = Field(
        finetune_data.VALIDATION_SHARE,
        gt=0,
        lt=0.5,
        description="Share of training articles held out for early stopping.",
    )
    validation: Literal[finetune_data.VALIDATION_ORDERS] = Field(  # type: ignore[valid-type]
        "random",
        description="Which articles early stopping holds out: 'random' (seeded) or 'newest' (by date, "
        "as the time split tests; random when no article is dated).",
    )
    early_stopping: Literal[tuple(finetune_data.EARLY_STOPPING)] = Field(  # type: ignore[valid-type]
        "stance",
        description="The validation figure that picks the epoch kept: 'stance' (macro-F1) or 'joint' "
        "(stance macro-F1 + actor accuracy end to end, the project's two targets together).",
    )
    temperature_scaling: bool = Field(
        True, description="Fit one temperature per head on the validation articles."
    )
    eval_batch_size: int = Field(64, ge=1, description="Sentences per forward pass at prediction time.")
    trainable_layers: int | None = Field(
        None,
        ge=0,
        description="Fine-tune only the top N transformer layers (and the heads); the embeddings and the "
        "layers below stay frozen, so training skips their backward pass (None: the whole encoder).",
    )
    cache_frozen: bool = Field(
        False,
        description="With trainable_layers: run the frozen layers once, in eval mode, and train the top "
        "layers from their cached outputs: one forward pass of the frozen layers in all, not one an "
        "epoch (the frozen layers then drop no units in training, as at prediction).",
    )
    context_sentences: int = Field(
        0,
        ge=0,
        le=context.CONTEXT_SENTENCES,
        description="Read the sentence's N preceding sentences in the article as a second segment (nearest "
        "first; the pair truncated to max_length); both heads pool the sentence's own tokens (0: none).",
    )
    onnx_int8: bool = onnx_encoder.int8_field()

    @model_validator(mode="after")
    def _cache_needs_frozen_layers(self) -> Self:
        if self.cache_frozen and self.trainable_layers is None:
            raise ValueError(
                "cache_frozen needs trainable_layers (the layers below them are the ones cached)"
            )
        return self


class FinetuneClassifier:
    kind = "finetune"
    requirements = TORCH_REQUIREMENTS

    def __init__(self, recipe: FinetuneRecipe, actor_labels: list[str], stance_labels: list[str]):
        self.recipe = recipe
        self.actor_labels = actor_labels
        self.stance_labels = stance_labels
        self.epoch_callback = None  # set by the trainer to log per-epoch metrics
        self.onnx_ = None  # the exported encoder and heads, when loaded from a folder that has them

    # -- training -------------------------------------------------------------------
    def fit(
        self, texts: list[str], actors: Ids, stances: Ids, groups=None, contexts=None, dates=None
    ) -> Self:
        """Fine-tune; ``groups`` (article ids) keep validation articles whole, ``dates`` order them."""
        import torch
        from transformers import EarlyStoppingCallback, Trainer, TrainingArguments, set_seed

        r = self.recipe
        encoder.set_threads()
        set_seed(r.seed)
        texts, actors, stances = list(texts), np.asarray(actors), np.asarray(stances)
        seconds = finetune_data.second_segments(contexts, r.context_sentences, len(texts))
        train_idx, val_idx = finetune_data.validation_split(
            len(texts), groups, stances, r.validation_share, r.seed, r.validation, dates
        )
        self.tokenizer_, base = encoder.load(r.base_model)
        if r.trainable_layers is not None:
            freeze_below(base, r.trainable_layers)
        n_actors = len(labels_of(self).real_actors)
        bearing = actors[train_idx] < n_actors
        model = two_heads(
            base, n_actors, len(self.stance_labels), r.dropout,
            finetune_data.inverse_frequency(actors[train_idx][bearing], n_actors) if r.class_weighted else None,
            finetune_data.inverse_frequency(stances[train_idx], len(self.stance_labels)) if r.class_weighted else None,
            top=r.trainable_layers,
        )  # fmt: skip
        if r.cache_frozen:
            states, pools = frozen_states(
                base, self.tokenizer_, texts, r.trainable_layers, r.max_length, r.eval_batch_size, seconds
            )
            train_ds, val_ds = (
                finetune_data.Cached(
                    [states[i] for i in idx], actors[idx], stances[idx], take(pools, idx)
                )
                for idx in (train_idx, val_idx)
            )  # fmt: skip
            collator = finetune_data.CachedCollator()
        else:
            train_ds, val_ds = (
                finetune_data.Encoded(
                    self.tokenizer_,
                    [texts[i] for i in idx],
                    actors[idx],
                    stances[idx],
                    r.max_length,
                    take(seconds, idx),
                )  # fmt: skip
                for idx in (train_idx, val_idx)
            )
            collator = finetune_data.Collator(self.tokenizer_)
        with tempfile.TemporaryDirectory() as out_dir:
            args = TrainingArguments(
                output_dir=out_dir, num_train_epochs=r.epochs, learning_rate=r.learning_rate,
                per_device_train_batch_size=r.batch_size, per_device_eval_batch_size=r.eval_batch_size,
                weight_decay=r.weight_decay, warmup_steps=r.warmup, seed=r.seed, data_seed=r.seed,
                eval_strategy="epoch", save_strategy="epoch", logging_strategy="epoch",
                load_best_model_at_end=True, metric_for_best_model=finetune_data.EARLY_STOPPING[r.early_stopping], greater_is_better=True,
                save_total_limit=1, save_only_model=True, report_to="none", use_cpu=not torch.cuda.is_available(),
                label_names=list(finetune_data.LABEL_NAMES), disable_tqdm=False, dataloader_num_workers=0,
            )  # fmt: skip
            callbacks = [EarlyStoppingCallback(early_stopping_patience=r.patience)]
            if self.epoch_callback is not None:
                callbacks.append(self.epoch_callback)
            scores = partial(finetune_data.val_metrics, none_stance=labels_of(self).none_stance_id)
            trainer = Trainer(
                model=model, args=args, train_dataset=train_ds, eval_dataset=val_ds,
                data_collator=collator, compute_metrics=scores, callbacks=callbacks,
            )  # fmt: skip
            trainer.train()
            self.epochs_run_ = float(trainer.state.epoch or 0)
        # the Trainer moves the model to a GPU where there is one; scoring, temperatures, saving and the
        # ONNX export read CPU tensors, as everywhere else in the project
        self.model_ = model.to("cpu").eval()
        self.temperatures_ = (1.0, 1.0)
        if r.temperature_scaling and len(val_idx):
            a_logits, s_logits = self._logits([texts[i] for i in val_idx], take(seconds, val_idx))
            va, vs = actors[val_idx], stances[val_idx]
            keep = va < n_actors
            self.temperatures_ = (fit_temperature(a_logits[keep], va[keep]), fit_temperature(s_logits, vs))
        return self

    # -- prediction -----------------------------------------------------------------
    def _logits(self, texts: list[str], seconds=None) -> tuple[np.ndarray, np.ndarray]:
        if self.onnx_ is not None:
            a_logits, s_logits = self.onnx_.run(texts)
            return a_logits, s_logits
        import torch

        r = self.recipe
        a_out = np.zeros((len(texts), len(labels_of(self).real_actors)), dtype=np.float32)
        s_out = np.zeros((len(texts), len(self.stance_labels)), dtype=np.float32)
        with torch.inference_mode():
            for idx, enc in encoder.batches_by_length(
                texts, self.tokenizer_, r.eval_batch_size, r.max_length, seconds
            ):
                out = self.model_(**enc)
                a_out[idx], s_out[idx] = out["actor_logits"].numpy(), out["stance_logits"].numpy()
        return a_out, s_out

    def predict_proba(self, texts: list[str], contexts=None) -> tuple[np.ndarray, np.ndarray]:
        texts = list(texts)
        seconds = finetune_data.second_segments(contexts, self.recipe.context_sentences, len(texts))
        a_logits, s_logits = self._logits(texts, seconds)
        ta, ts = self.temperatures_
        stance_p = softmax(s_logits / ts)
        return factorized_actor_proba(
            stance_p, softmax(a_logits / ta), self.actor_labels, self.stance_labels
        ), stance_p

    # -- persistence ----------------------------------------------------------------
    def save(self, folder: Path) -> None:
        from safetensors.torch import save_file

        folder = Path(folder)
        write_meta(folder, self)
        self.tokenizer_.save_pretrained(folder / "encoder")
        self.model_.encoder.save_pretrained(folder / "encoder")
        heads = {
            k: v.contiguous() for k, v in self.model_.state_dict().items() if not k.startswith("encoder.")
        }
        save_file(heads, folder / "heads.safetensors")
        state = {"temperatures": list(self.temperatures_)}
        (folder / "finetune.json").write_text(json.dumps(state, indent=2))
        r = self.recipe
        if r.context_sentences:  # the ONNX graph reads one segment and pools every token: torch serves
            return
        outputs = ["actor_logits", "stance_logits"]
        onnx_encoder.export_module(self.model_, self.tokenizer_, folder, r.max_length, outputs, r.onnx_int8)

    @classmethod
    def load(cls, folder: Path) -> Self:
        folder = Path(folder)
        meta, state = read_meta(folder), json.loads((folder / "finetune.json").read_text())
        recipe = saved_recipe(meta, FinetuneRecipe, state.get("recipe"))
        model = cls(recipe, meta["actor_labels"], meta["stance_labels"])
        model.temperatures_ = tuple(state["temperatures"])
        if onnx_encoder.available(folder):  # no torch or transformers on this path
            model.onnx_ = onnx_encoder.OnnxEncoder(folder)
            return model
        from safetensors.torch import load_file

        encoder.set_threads()
        model.tokenizer_, base = encoder.load(str(folder / "encoder"))
        net = two_heads(base, len(labels_of(model).real_actors), len(model.stance_labels), recipe.dropout)
        net.load_state_dict(load_file(folder / "heads.safetensors"), strict=False)
        model.model_ = net.eval()
        return model
