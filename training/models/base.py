"""The one model interface every kind implements, and the recipe fields they share."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Protocol, Self

import numpy as np
from pydantic import Field

from stance.config import Config
from stance.errors import StanceError
from stance.scheme import Labels

CLASSIFIER_META = "classifier.json"

# What a logged model needs to load and run, by pip name (versions are pinned when it is logged).
# Each kind declares its own ``requirements``; kinds built on torch start from TORCH_REQUIREMENTS.
Ids = np.ndarray  # label ids, one per sentence (fit's actors and stances)

REQUIREMENTS = ("mlflow", "scikit-learn", "pandas", "numpy", "pysbd", "pydantic", "pyyaml")
# onnxruntime and tokenizers: the ONNX scoring path of an encoder (training/models/onnx_encoder.py)
TORCH_REQUIREMENTS = (*REQUIREMENTS, "torch", "transformers", "safetensors", "onnxruntime", "tokenizers")


class RecipeBase(Config):
    """Fields every recipe has. A recipe YAML holds only what differs from these defaults."""

    kind: str
    seed: int = Field(13, ge=0, lt=2**32, description="Seed for folds, model initialisation and sampling.")
    cv_folds: int = Field(5, ge=2, description="Grouped-by-article cross-validation folds.")

    def check_data(self, sentences: int, articles: int, train_share: float = 1.0) -> None:
        """Rules that need the data's size, checked before a run starts (kinds add their own)."""
        base = getattr(self, "base_model", None)  # the encoder of transformer kinds
        is_path = isinstance(base, str) and base.startswith(("/", "./", "../", "~"))
        if is_path and not Path(base).expanduser().is_dir():
            raise StanceError(f"base_model {base}: no such folder (give a model folder, or a hub id)")
        if self.cv_folds > articles:
            raise StanceError(
                f"cv_folds {self.cv_folds} is more than the {articles} articles of the data "
                "(folds are grouped by article)"
            )

    @staticmethod
    def fold_train_size(sentences: int, folds: int, train_share: float) -> int:
        """About how many sentences a cross-validation fold trains on."""
        return int(sentences * (folds - 1) / folds * train_share)


class StanceClassifier(Protocol):
    """Texts in, actor and stance probabilities out (columns in scheme order).

    ``contexts``, where given, holds each sentence's preceding sentences in its article
    (one per line, nearest last; see training/context.py): kinds that look for the holder
    of "He said" there read it, the others ignore it, and every kind answers without it.
    ``fit`` returns ``self``; learned state ends in ``_``; ``save``/``load`` use a
    folder that also holds ``classifier.json`` (kind and label names). A kind that
    trains in epochs calls ``epoch_callback`` (a transformers ``TrainerCallback``)
    when one is set, so per-epoch metrics reach MLflow.
    """

    kind: str
    requirements: tuple[str, ...]  # pip names its logged model needs (see REQUIREMENTS)
    actor_labels: list[str]
    stance_labels: list[str]

    def fit(
        self, texts: list[str], actors: Ids, stances: Ids, groups=None, contexts=None, dates=None
    ) -> Self:
        """``groups`` are the sentences' article ids, for kinds that hold out validation articles;
        ``dates`` their articles' dates (ISO, "" when undated), for kinds that hold out the newest."""

    def predict_proba(self, texts: list[str], contexts=None) -> tuple[np.ndarray, np.ndarray]: ...

    def save(self, folder: Path) -> None: ...

    @classmethod
    def load(cls, folder: Path) -> Self: ...


def write_meta(folder: Path, model) -> None:
    """``classifier.json``: the kind, the label names and the recipe (as JSON), for every kind alike:
    the one place a saved model keeps its recipe."""
    folder.mkdir(parents=True, exist_ok=True)
    meta = {
        "kind": model.kind,
        "actor_labels": list(model.actor_labels),
        "stance_labels": list(model.stance_labels),
        "recipe": model.recipe.model_dump(mode="json"),
    }
    (folder / CLASSIFIER_META).write_text(json.dumps(meta, indent=2) + "\n")


def read_meta(folder: Path) -> dict:
    return json.loads((Path(folder) / CLASSIFIER_META).read_text())


def saved_recipe(meta: dict, recipe_class, legacy: dict | None = None, **override):
    """The recipe a saved model was trained with, from ``classifier.json``; models saved before it
    kept the recipe there still load, from their own state file (``legacy``)."""
    raw = meta.get("recipe", legacy)
    if raw is None:
        raise ValueError("the saved model has no recipe (classifier.json)")
    return recipe_class(**(raw | override))


def factorized_actor_proba(
    stance_p: np.ndarray, actor_given_stance: np.ndarray, actor_labels: list[str], stance_labels: list[str]
) -> np.ndarray:
    """p(actor) = p(some stance) x p(actor | a stance); the last column, "none", = p(no stance).

    ``actor_given_stance`` has one column per real actor (the scheme's actors, in order).
    Every kind builds its actor probabilities this way, so the rule "actor is none
    exactly when the stance is" holds in the probabilities, not only in the labels.
    """
    p_none = stance_p[:, Labels.of(actor_labels, stance_labels).none_stance_id]
    return np.concatenate([actor_given_stance * (1 - p_none)[:, None], p_none[:, None]], axis=1)


def stance_ratios(actors, stances, labels: Labels) -> np.ndarray:
    """How much more often each real actor holds each stance than stances at all, in labels:
    p(actor | the stance) / p(actor | a stance), one row per stance but "none" (the scheme's
    order), one column per real actor, from the stance-bearing rows' add-one counts."""
    rows = labels.real_stance_ids
    counts = np.ones((len(rows), len(labels.real_actors)))
    for a, s in zip(np.asarray(actors), np.asarray(stances), strict=True):
        if s != labels.none_stance_id and a != labels.none_actor_id:
            counts[rows.index(int(s)), int(a)] += 1
    given_stance = counts / counts.sum(axis=1, keepdims=True)
    overall = counts.sum(axis=0) / counts.sum()
    return given_stance / overall


def conditioned_actor_proba(
    stance_p: np.ndarray, actor_given_stance: np.ndarray, ratios: np.ndarray, labels: Labels
) -> np.ndarray:
    """:func:`factorized_actor_proba` with the actor told the stance: p(actor) = sum over the
    stances s of p(s) x p(actor | s), where p(actor | s) is p(actor | a stance) times
    ``ratios[s]`` renormalised; the last column, "none", = p(no stance). Ratios of 1 give the
    factorised probabilities back."""
    given = actor_given_stance[:, None, :] * ratios[None, :, :]
    given = given / np.maximum(given.sum(axis=2, keepdims=True), 1e-12)
    actors = np.einsum("ns,nsa->na", stance_p[:, labels.real_stance_ids], given)
    return np.concatenate([actors, stance_p[:, [labels.none_stance_id]]], axis=1)


def take(values: list | None, idx) -> list | None:
    """Some rows of an optional per-sentence input (``contexts``, ``dates``): None stays None."""
    return None if values is None else [values[i] for i in idx]


def labels_of(model: StanceClassifier) -> Labels:
    """A model's label lists as a :class:`Labels` (where "none" sits, which actors are real)."""
    return Labels.of(model.actor_labels, model.stance_labels)


def full_proba(estimator, x, n_classes: int) -> np.ndarray:
    """A scikit-learn estimator's probabilities over every class id, 0 for classes unseen in training."""
    out = np.zeros((x.shape[0] if hasattr(x, "shape") else len(x), n_classes))
    out[:, estimator.classes_] = estimator.predict_proba(x)
    return out
