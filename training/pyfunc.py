"""The MLflow model every kind is logged as: texts in, actor and stance probabilities out.

Input: a DataFrame with a ``text`` column (or a list of strings), and optionally a
``context`` column: each sentence's preceding sentences in its article, one per line
(training/context.py), where the holder of "He said ..." is found; a caller that
omits it still gets an answer, from the sentence alone. Output: one row
per text with ``actor`` and ``stance`` (decoded consistently: the actor is
``none`` exactly when the stance is) and one probability column per class,
named ``actor:<label>`` and ``stance:<label>``. Predict and Label Studio
pre-annotation use only this, never the model's kind.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
from mlflow.pyfunc import PythonModel

from training.models.base import labels_of
from training.outputs import output_frame

ARTIFACT = "classifier"
ENTRY = Path(__file__).with_name("pyfunc_entry.py")


def texts_of(model_input) -> list[str]:
    if isinstance(model_input, pd.DataFrame):
        column = "text" if "text" in model_input.columns else model_input.columns[0]
        return [str(t) for t in model_input[column].tolist()]
    if isinstance(model_input, pd.Series):
        return [str(t) for t in model_input.tolist()]
    if isinstance(model_input, dict) and "text" in model_input:
        return [str(t) for t in model_input["text"]]
    return [str(t) for t in model_input]


def contexts_of(model_input) -> list[str] | None:
    """The optional ``context`` column (missing values read as no context), or None."""
    if isinstance(model_input, pd.DataFrame) and "context" in model_input.columns:
        return [
            "" if c is None or (isinstance(c, float) and c != c) else str(c) for c in model_input["context"]
        ]
    if isinstance(model_input, dict) and "context" in model_input:
        return ["" if c is None else str(c) for c in model_input["context"]]
    return None


def optional_context(signature):
    """The signature with its ``context`` column, if any, marked optional (``text`` stays required)."""
    from mlflow.models.signature import ModelSignature
    from mlflow.types.schema import ColSpec, Schema

    cols = [
        ColSpec(c.type, c.name, required=c.name != "context") if c.name == "context" else c
        for c in signature.inputs.inputs
    ]
    return ModelSignature(inputs=Schema(cols), outputs=signature.outputs, params=signature.params)


def input_columns(input_schema) -> list[str]:
    """The columns to send a logged model: ``text``, and ``context`` when its signature reads it.

    Models logged before the holder's context column take the text alone.
    """
    if input_schema is None or "context" in input_schema.input_names():
        return ["text", "context"]
    return ["text"]


class StanceModel(PythonModel):
    """Wraps any classifier saved by a kind in ``training.models``."""

    def load_context(self, context):
        from training.recipes import load_classifier

        self.classifier = load_classifier(context.artifacts[ARTIFACT])

    def predict(self, context, model_input: pd.DataFrame, params=None):
        texts = texts_of(model_input)
        c = self.classifier
        if not texts:
            actor_p = np.zeros((0, len(c.actor_labels)))
            stance_p = np.zeros((0, len(c.stance_labels)))
        else:
            actor_p, stance_p = c.predict_proba(texts, contexts=contexts_of(model_input))
        return output_frame(actor_p, stance_p, c.actor_labels, c.stance_labels, labels_of(c).none)
