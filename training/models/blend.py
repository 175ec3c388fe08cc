"""Several recipes as one model: their stance probabilities averaged, one member's holders kept.

A fine-tuned encoder and the hybrid recipe decide differently on about a third of the newest
articles' sentences, and averaging their stance probabilities beat either alone on the time
split (README, "A second stance voice"), while the fine-tune's own holders were much weaker.
So a blend fits every member on the same sentences and answers with

    p(stance)  = the weighted mean of the members' stance probabilities
    p(actor)   = p(some stance) x p(actor | a stance) of the ``holders`` member
                 (or, with ``holder_weights``, the weighted mean of the members' p(actor | a stance)),

the project's one factorisation (base.factorized_actor_proba). Members are recipes, given in
the blend's YAML as a recipe file (a path from the project root) or as ``{recipe: FILE, key:
value ...}`` (the file with overrides); the blend's recipe keeps each member's resolved values,
so a saved or logged blend says exactly what it was made of, and its recipe hash changes when a
member's file does.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, Literal, Self

import numpy as np
from pydantic import Field, field_validator, model_validator

from training.models.base import Ids, RecipeBase, read_meta, saved_recipe, write_meta
from training.models.base import factorized_actor_proba as _factorized

MEMBER_FOLDER = "member-{}"


class BlendRecipe(RecipeBase):
    kind: Literal["blend"] = "blend"
    members: tuple[dict[str, Any], ...] = Field(
        description="The member recipes: a recipe file (path from the project root), or "
        "{recipe: FILE, ...overrides}; stored resolved (every key of each member's recipe)."
    )
    stance_weights: tuple[float, ...] | None = Field(
        None, description="Weight of each member's stance probabilities (None: equal weights)."
    )
    holders: int = Field(0, ge=0, description="Which member's p(actor | a stance) the blend keeps.")
    holder_weights: tuple[float, ...] | None = Field(
        None,
        description="Weight of each member's p(actor | a stance) in a weighted mean, in place of one "
        "member's (None: the `holders` member's alone).",
    )

    @field_validator("members", mode="before")
    @classmethod
    def _resolve(cls, value: Any) -> Any:
        if not isinstance(value, list | tuple):
            return value  # pydantic names the type error
        return tuple(_member(m).model_dump(mode="json") for m in value)

    @model_validator(mode="after")
    def _consistent(self) -> Self:
        n = len(self.members)
        if n < 2:
            raise ValueError(f"members: a blend needs at least two recipes (got {n})")
        if self.holders >= n:
            raise ValueError(f"holders: {self.holders} names no member (members are 0 to {n - 1})")
        w = self.stance_weights
        if w is not None and (len(w) != n or min(w) < 0 or sum(w) <= 0):
            raise ValueError(f"stance_weights: give {n} weights, none negative, not all zero (got {list(w)})")
        h = self.holder_weights
        if h is not None and (len(h) != n or min(h) < 0 or sum(h) <= 0):
            raise ValueError(f"holder_weights: give {n} weights, none negative, not all zero (got {list(h)})")
        return self

    def member_recipes(self) -> list[RecipeBase]:
        return [_member(m) for m in self.members]

    def check_data(self, sentences: int, articles: int, train_share: float = 1.0) -> None:
        super().check_data(sentences, articles, train_share)
        for member in self.member_recipes():
            member.check_data(sentences, articles, train_share)


def _member(spec: Any) -> RecipeBase:
    """One member's typed recipe from a path, ``{recipe: path, ...overrides}`` or a resolved dict."""
    from stance import paths
    from stance.config import read_yaml
    from training.recipes import KINDS

    if isinstance(spec, str):
        spec = {"recipe": spec}
    if not isinstance(spec, dict):
        raise ValueError(f"a member is a recipe file or a mapping (got {spec!r})")
    spec = dict(spec)
    if "recipe" in spec:
        path = Path(spec.pop("recipe"))
        path = path if path.is_absolute() else paths.root() / path
        if not path.is_file():
            raise ValueError(f"member recipe {path}: no such file")
        spec = read_yaml(path) | spec
    kind = spec.get("kind")
    if kind == "blend":
        raise ValueError("a blend's member cannot be a blend")
    if kind not in KINDS:
        raise ValueError(f"a member's 'kind' must be one of {', '.join(k for k in KINDS if k != 'blend')}")
    return KINDS[kind][0].from_dict(spec, source=f"member ({kind})")


def actor_given_stance(actor_p: np.ndarray) -> np.ndarray:
    """p(actor | a stance) back from a factorised p(actor): the real actors' columns renormalised
    (their sum is p(some stance)); uniform where a member is sure there is no stance."""
    real = actor_p[:, :-1]
    total = real.sum(axis=1, keepdims=True)
    uniform = np.full_like(real, 1.0 / real.shape[1])
    return np.where(total > 1e-12, real / np.maximum(total, 1e-12), uniform)


def _requirements(members) -> tuple[str, ...]:
    """What a blend's logged model needs: its members' pip requirements, in order, once each."""
    return tuple(dict.fromkeys(x for m in members for x in m.requirements))


class BlendClassifier:
    kind = "blend"
    # a blend's logged model needs what its members need: set per instance, from its members
    requirements: tuple[str, ...] = ()

    def __init__(self, recipe: BlendRecipe, actor_labels: list[str], stance_labels: list[str]):
        from training.recipes import KINDS

        self.recipe = recipe
        self.actor_labels = actor_labels
        self.stance_labels = stance_labels
        self.members_ = [KINDS[r.kind][1](r, actor_labels, stance_labels) for r in recipe.member_recipes()]
        self.requirements = _requirements(self.members_)

    @property
    def epoch_callback(self):
        return next((m.epoch_callback for m in self.members_ if hasattr(m, "epoch_callback")), None)

    @epoch_callback.setter
    def epoch_callback(self, callback) -> None:
        for m in self.members_:
            if hasattr(m, "epoch_callback"):
                m.epoch_callback = callback

    def fit(
        self, texts: list[str], actors: Ids, stances: Ids, groups=None, contexts=None, dates=None
    ) -> Self:
        for m in self.members_:
            m.fit(texts, actors, stances, groups=groups, contexts=contexts, dates=dates)
        return self

    def fit_metrics(self) -> dict[str, float]:
        out = {}
        for i, m in enumerate(self.members_):
            out |= {f"member{i}_{k}": v for k, v in getattr(m, "fit_metrics", dict)().items()}
        return out

    def _weights(self) -> tuple[np.ndarray, np.ndarray]:
        """Each member's share of the stance and of p(actor | a stance), each summing to 1."""
        r, n = self.recipe, len(self.members_)
        stance = np.asarray(r.stance_weights or (1.0,) * n, dtype=float)
        holder = np.asarray(r.holder_weights or [float(i == r.holders) for i in range(n)], dtype=float)
        return stance / stance.sum(), holder / holder.sum()

    def predict_proba(self, texts: list[str], contexts=None) -> tuple[np.ndarray, np.ndarray]:
        texts = list(texts)
        stance_p, given = 0.0, 0.0
        for m, w, h in zip(self.members_, *self._weights(), strict=True):
            actor_p, p = m.predict_proba(texts, contexts)
            stance_p = stance_p + w * p
            if h > 0:
                given = given + h * actor_given_stance(actor_p)
        return _factorized(stance_p, given, self.actor_labels, self.stance_labels), stance_p

    def holders(self, texts: list[str], contexts=None):
        """The parse's holders as the member whose holders the blend keeps reads them (or the first
        member that reads any); None when no member does."""
        order = [self.members_[self.recipe.holders], *self.members_]
        member = next((m for m in order if hasattr(m, "holders")), None)
        return member.holders(texts, contexts) if member is not None else None

    def save(self, folder: Path) -> None:
        folder = Path(folder)
        write_meta(folder, self)
        for i, m in enumerate(self.members_):
            m.save(folder / MEMBER_FOLDER.format(i))

    @classmethod
    def load(cls, folder: Path) -> Self:
        from training.recipes import load_classifier

        folder = Path(folder)
        meta = read_meta(folder)
        model = cls.__new__(cls)
        model.recipe = saved_recipe(meta, BlendRecipe)
        model.actor_labels, model.stance_labels = meta["actor_labels"], meta["stance_labels"]
        members = range(len(model.recipe.members))
        model.members_ = [load_classifier(folder / MEMBER_FOLDER.format(i)) for i in members]
        model.requirements = _requirements(model.members_)
        return model
