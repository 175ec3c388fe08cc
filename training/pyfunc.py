"""The MLflow model every kind is logged as: texts in, actor and stance probabilities out.

Input: a DataFrame with a ``text`` column (over HTTP: rows with a ``text`` field), and optionally a
``context`` column: each sentence's preceding sentences in its article, one per line
(training/context.py), where the holder of "He said ..." is found; a caller that
omits it still gets an answer, from the sentence alone. Output: one row
per text with ``actor`` and ``stance`` (decoded consistently: the actor is
``none`` exactly when the stance is), ``p`` (how sure the model is of that pair:
training/confidence.py, the figure predict and Label Studio show; models logged
before it lack the column) and one probability column per class,
named ``actor:<label>`` and ``stance:<label>``; kinds that parse for the holder add
``holder``, ``holder_actor`` and ``holder_from`` (who the parse reads as the holder: evidence
for a reader, "" where it found none); a model logged with its trust table adds ``pair_right``
(how often its calls of the row's pair were right on articles it never saw; null where not
measured). Predict and Label Studio
pre-annotation use only this, never the model's kind.
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd
from mlflow.pyfunc import PythonModel

from labeling.articles import MAX_ARTICLE_BYTES
from training.outputs import blank_rows, contexts_of, long_rows, not_text_rows, score, texts_of
from training.reliability import ARTIFACT as TRUST

__all__ = ["StanceModel", "contexts_of", "input_columns", "optional_context", "texts_of"]

ARTIFACT = "classifier"
ENTRY = Path(__file__).with_name("pyfunc_entry.py")


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

    trust: dict | None = None  # how far to trust each pair it calls, where logged with it

    def load_context(self, context):
        import json

        from training.recipes import load_classifier

        self.classifier = load_classifier(context.artifacts[ARTIFACT])
        if TRUST in context.artifacts:
            self.trust = json.loads(Path(context.artifacts[TRUST]).read_text())

    def predict(self, context, model_input: pd.DataFrame, params=None):
        # the server answers 400 with these messages, as predict refuses a blank input
        if blank := blank_rows(model_input):
            _refuse(f"{len(blank)} of {len(model_input)} rows have no text (null or blank; {_rows(blank)})")
        for column, hint in (("text", TEXT_HINT), ("context", CONTEXT_HINT)):
            if odd := not_text_rows(model_input, column):
                (row, value), rows = odd[0], [i for i, _ in odd]
                _refuse(
                    f"{len(odd)} of {len(model_input)} rows have a {column} that is not a string "
                    f"({_rows(rows)}; row {row} holds {str(value)[:40]} ({type(value).__name__}))",
                    hint,
                )
        if long := long_rows(model_input, MAX_ARTICLE_BYTES):
            (row, size), rows = long[0], [i for i, _ in long]
            _refuse(
                f"{len(long)} of {len(model_input)} rows have a text or context too long for one sentence "
                f"({_rows(rows)}; row {row} holds {size / 1e6:.1f} MB; the limit is "
                f"{MAX_ARTICLE_BYTES / 1e6:.0f} MB, as for a whole article)"
            )
        return score(self.classifier, model_input, self.trust)


def _rows(rows: list[int]) -> str:
    return (
        "rows "
        + ", ".join(str(i) for i in rows[:10])
        + (", ..." if len(rows) > 10 else "")
        + ", counted from 0"
    )


TEXT_HINT = "give each row a sentence in `text`"
CONTEXT_HINT = "give each row the article's sentences before it in `context`, as one string, or leave it out"


def _refuse(what: str, hint: str = TEXT_HINT):
    from mlflow.exceptions import MlflowException
    from mlflow.protos.databricks_pb2 import INVALID_PARAMETER_VALUE

    raise MlflowException(f"{what}: {hint}", error_code=INVALID_PARAMETER_VALUE)
