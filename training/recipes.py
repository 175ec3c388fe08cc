"""Recipes: a YAML file in configs/ -> a typed recipe -> a classifier of its kind."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

from stance.config import read_yaml
from stance.errors import StanceError
from stance.scheme import Scheme
from training.models.base import RecipeBase, read_meta
from training.models.baseline import BaselineClassifier, BaselineRecipe
from training.models.blend import BlendClassifier, BlendRecipe
from training.models.embedding import EmbeddingClassifier, EmbeddingRecipe
from training.models.fewshot import FewshotClassifier, FewshotRecipe
from training.models.finetune import FinetuneClassifier, FinetuneRecipe
from training.models.hybrid import HybridClassifier
from training.models.hybrid_recipe import HybridRecipe

# kind -> (recipe class, classifier class); later kinds register here
KINDS: dict[str, tuple[type[RecipeBase], type]] = {
    "baseline": (BaselineRecipe, BaselineClassifier),
    "embedding": (EmbeddingRecipe, EmbeddingClassifier),
    "finetune": (FinetuneRecipe, FinetuneClassifier),
    "fewshot": (FewshotRecipe, FewshotClassifier),
    "hybrid": (HybridRecipe, HybridClassifier),
    "blend": (BlendRecipe, BlendClassifier),  # members of the kinds above
}


def load_recipe(path: Path, overrides: dict | None = None, source: str | None = None) -> RecipeBase:
    """The typed recipe of a YAML file, with ``overrides`` (key -> value) applied on top.

    Override keys are checked against the recipe's kind like the file's own keys.
    """
    data = read_yaml(path)
    kind = data.get("kind")
    if kind not in KINDS:
        raise StanceError(f"{path}: 'kind' must be one of {', '.join(KINDS)} (got {kind!r})")
    if overrides and "kind" in overrides:
        raise StanceError(f"{source or path}: an override cannot change 'kind'; use another recipe")
    recipe = KINDS[kind][0].from_dict(data | (overrides or {}), source=source or str(path))
    check_base_models(recipe, source or str(path))
    return recipe


def check_base_models(recipe: RecipeBase, source: str) -> None:
    """Every encoder the recipe (or a blend's member) names can be loaded here, checked cheaply when
    the recipe is read, before any run starts: one line naming the recipe file when one cannot."""
    from training.models import encoder

    members = getattr(recipe, "member_recipes", None)
    for r in [recipe, *(members() if members is not None else [])]:
        base = getattr(r, "base_model", None)
        if isinstance(base, str) and (why := encoder.unavailable(base)):
            raise StanceError(f"{source}: {why}")


def recipe_hash(recipe: RecipeBase) -> str:
    blob = json.dumps(recipe.model_dump(mode="json"), sort_keys=True)
    return hashlib.sha256(blob.encode()).hexdigest()[:12]


def reads_gazetteer(recipe: RecipeBase) -> bool:
    """Whether the recipe, or any member of a blend, reads configs/gazetteer.yaml."""
    if getattr(recipe, "gazetteer", False):
        return True
    members = getattr(recipe, "member_recipes", None)
    return members is not None and any(reads_gazetteer(m) for m in members())


def make_classifier(recipe: RecipeBase, scheme: Scheme):
    return KINDS[recipe.kind][1](recipe, scheme.actor_labels, scheme.stance_labels)


def load_classifier(folder: Path):
    kind = read_meta(folder)["kind"]
    if kind not in KINDS:
        raise StanceError(f"{folder}: unknown model kind '{kind}'")
    return KINDS[kind][1].load(folder)
