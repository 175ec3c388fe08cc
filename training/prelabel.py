"""Pre-annotations for ``stance labeling push``: a registered model scores the pushed sentences.

The labeling layer never imports training: the CLI builds a :class:`ModelScorer` from the
``--model`` URI and hands it to ``labeling.loop.push``, which needs only its ``uri``, its
registered ``version`` and its predictions.
"""

from __future__ import annotations

from functools import cached_property

from labeling.segment import Sentence
from stance.scheme import Scheme
from training.predict import Predictor, SentencePrediction


def resolve_model(model_uri: str) -> str | None:
    """The registered version a model URI names ('stance-classifier/3'), or None if the alias is unset."""
    import mlflow
    from mlflow import MlflowClient
    from mlflow.exceptions import MlflowException

    from training import tracking

    tracking.quiet_mlflow()
    mlflow.set_tracking_uri(tracking.tracking_uri())
    name = model_uri.removeprefix("models:/")
    if "@" not in name:
        return name
    name, alias = name.split("@", 1)
    try:
        return f"{name}/{MlflowClient().get_model_version_by_alias(name, alias).version}"
    except MlflowException:
        return None


class ModelScorer:
    """A registered model as push's scorer; the registry is asked only when push needs the version."""

    def __init__(self, model_uri: str) -> None:
        self.uri = model_uri

    @cached_property
    def version(self) -> str | None:
        return resolve_model(self.uri)

    def __call__(self, sentences: list[Sentence], scheme: Scheme) -> list[SentencePrediction]:
        """Predictions for ``sentences``, given in reading order so each keeps its context."""
        return Predictor(f"models:/{self.version}", scheme).predict_sentences(sentences)
