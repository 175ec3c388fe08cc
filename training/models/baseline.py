"""TF-IDF word and character n-grams with a class-balanced linear classifier, per facet."""

from __future__ import annotations

from pathlib import Path
from typing import Literal, Self

import numpy as np
from pydantic import Field, field_validator

from stance.errors import StanceError
from training.models.base import (
    REQUIREMENTS,
    Ids,
    RecipeBase,
    factorized_actor_proba,
    full_proba,
    labels_of,
    read_meta,
    saved_recipe,
    write_meta,
)


class BaselineRecipe(RecipeBase):
    kind: Literal["baseline"] = "baseline"
    word_ngrams: tuple[int, int] = Field((1, 2), description="Word n-gram range.")
    char_ngrams: tuple[int, int] = Field((2, 5), description="Character n-gram range (within word bounds).")
    min_df: int = Field(1, ge=1, description="Ignore n-grams seen in fewer sentences than this.")
    max_features: int | None = Field(50_000, ge=1, description="Vocabulary cap per vectorizer.")
    C: float = Field(4.0, gt=0, description="Inverse regularisation strength of the logistic regression.")
    class_weight: Literal["balanced"] | None = Field("balanced", description="Reweight rare classes.")
    max_iter: int = Field(2000, ge=100, description="Solver iterations.")

    @field_validator("word_ngrams", "char_ngrams")
    @classmethod
    def _ngram_range(cls, value: tuple[int, int]) -> tuple[int, int]:
        low, high = value
        if not 1 <= low <= high:
            raise ValueError(f"an n-gram range is [low, high] with 1 <= low <= high, got [{low}, {high}]")
        return value

    def check_data(self, sentences: int, articles: int, train_share: float = 1.0) -> None:
        super().check_data(sentences, articles, train_share)
        fold = self.fold_train_size(sentences, self.cv_folds, train_share)
        if self.min_df > fold:
            raise StanceError(
                f"min_df {self.min_df} is more than the sentences a fold trains on (about {fold}): "
                "no n-gram could be kept"
            )


def tfidf_features(r: BaselineRecipe):
    """Word and character-in-word TF-IDF n-grams, side by side (an unfitted transformer)."""
    from sklearn.feature_extraction.text import TfidfVectorizer
    from sklearn.pipeline import make_union

    common = {"sublinear_tf": True, "min_df": r.min_df, "max_features": r.max_features}
    return make_union(
        TfidfVectorizer(analyzer="word", ngram_range=r.word_ngrams, **common),
        TfidfVectorizer(analyzer="char_wb", ngram_range=r.char_ngrams, **common),
    )


class BaselineClassifier:
    """One TF-IDF + logistic-regression pipeline per facet, sharing nothing but the text."""

    kind = "baseline"
    requirements = REQUIREMENTS

    def __init__(self, recipe: BaselineRecipe, actor_labels: list[str], stance_labels: list[str]):
        self.recipe = recipe
        self.actor_labels = actor_labels
        self.stance_labels = stance_labels

    def _pipeline(self):
        from sklearn.linear_model import LogisticRegression
        from sklearn.pipeline import make_pipeline

        r = self.recipe
        clf = LogisticRegression(C=r.C, class_weight=r.class_weight, max_iter=r.max_iter, random_state=r.seed)
        return make_pipeline(tfidf_features(r), clf)

    def fit(
        self, texts: list[str], actors: Ids, stances: Ids, groups=None, contexts=None, dates=None
    ) -> Self:
        # The actor head learns who holds a stance from stance-bearing sentences only;
        # whether there is a stance at all is the stance head's job (see predict_proba).
        none_actor = labels_of(self).none_actor_id
        bearing = np.asarray(actors) != none_actor
        self.actor_ = self._pipeline().fit(
            [t for t, b in zip(texts, bearing, strict=True) if b], actors[bearing]
        )
        self.stance_ = self._pipeline().fit(texts, stances)
        return self

    def predict_proba(self, texts: list[str], contexts=None) -> tuple[np.ndarray, np.ndarray]:
        """p(stance), and p(actor) = p(some stance) x p(actor | a stance), p(none) = p(no stance)."""
        stance_p = full_proba(self.stance_, texts, len(self.stance_labels))
        actor_given = full_proba(self.actor_, texts, len(labels_of(self).real_actors))
        return factorized_actor_proba(stance_p, actor_given, self.actor_labels, self.stance_labels), stance_p

    def save(self, folder: Path) -> None:
        import joblib

        write_meta(folder, self)
        joblib.dump({"actor": self.actor_, "stance": self.stance_}, folder / "baseline.joblib")

    @classmethod
    def load(cls, folder: Path) -> Self:
        import joblib

        meta = read_meta(folder)
        state = joblib.load(Path(folder) / "baseline.joblib")
        recipe = saved_recipe(meta, BaselineRecipe, state.get("recipe"))
        model = cls(recipe, meta["actor_labels"], meta["stance_labels"])
        model.actor_, model.stance_ = state["actor"], state["stance"]
        return model
